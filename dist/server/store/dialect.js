import { PostgresAdapter, sql } from 'kysely';
/**
 * What differs between SQLite and Postgres in the schema, in one place. Queries themselves are written with the
 * builder and run unchanged on both.
 */
/** True when `db` talks to Postgres (migrations receive a `Kysely<unknown>` and ask). */
function isPostgres(db) {
    return db.getExecutor().adapter instanceof PostgresAdapter;
}
/**
 * A generated integer key that only grows (order of creation): SQLite's `integer primary key autoincrement`,
 * Postgres' identity column. Use with `.addColumn(name, 'integer', serialKey(db))`.
 */
export function serialKey(db) {
    return isPostgres(db) ? (c) => c.primaryKey().generatedByDefaultAsIdentity() : (c) => c.primaryKey().autoIncrement();
}
/** An 8-byte float (coordinates): SQLite's `real` already is one; Postgres' `real` is 4 bytes. */
export function doubleType(db) {
    return isPostgres(db) ? sql `double precision` : 'real';
}
//# sourceMappingURL=dialect.js.map