import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Dialect, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { watchedDialect, type DialectWatcher } from './watched-dialect.js';
import { initial } from './migrations/001-initial.js';
import { accounts } from './migrations/002-accounts.js';
import { offlineSync } from './migrations/003-offline-sync.js';
import { deviceIdentity } from './migrations/006-device-identity.js';
import { auditAndKeys } from './migrations/004-audit-and-keys.js';
import { alarmActions } from './migrations/005-alarm-actions.js';
import { webhooks } from './migrations/007-webhooks.js';
import { parcelReference } from './migrations/008-parcel-reference.js';
import { brokerTokenUses } from './migrations/009-broker-token-uses.js';
import { lifecycleDevice } from './migrations/010-lifecycle-device.js';
import { lifecycleServer } from './migrations/011-lifecycle-server.js';
import { scaleOut } from './migrations/012-scale-out.js';
import { grantPinSource } from './migrations/013-grant-pin-source.js';
import { remoteOpenRequests } from './migrations/014-remote-open-requests.js';
// Screen (issue 14): low compartments.
import { lowCompartments } from './migrations/015-low-compartments.js';
// Idempotency keys and retired lockers (issue 16, api).
import { idempotencyAndRetire } from './migrations/016-idempotency-and-retire.js';
// Fleet listing and history (cockpit):
import { listingAndHistory } from './migrations/017-listing-and-history.js';
// Operator sign-in (issue 19).
import { signIn } from './migrations/018-sign-in.js';
// Firmware rollouts (issue 19):
import { firmware } from './migrations/019-firmware.js';

/** Migrations in the order they run. Names sort in that order; never rename one that has shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-accounts': accounts,
  '003-offline-sync': offlineSync,
  '004-audit-and-keys': auditAndKeys,
  '005-alarm-actions': alarmActions,
  '006-device-identity': deviceIdentity,
  '007-webhooks': webhooks,
  '008-parcel-reference': parcelReference,
  '009-broker-token-uses': brokerTokenUses,
  '010-lifecycle-device': lifecycleDevice,
  '011-lifecycle-server': lifecycleServer,
  '012-scale-out': scaleOut,
  '013-grant-pin-source': grantPinSource,
  '014-remote-open-requests': remoteOpenRequests,
  '015-low-compartments': lowCompartments, // Screen (issue 14)
  // Idempotency keys and retired lockers (issue 16, api).
  '016-idempotency-and-retire': idempotencyAndRetire,
  // Fleet listing and history (cockpit):
  '017-listing-and-history': listingAndHistory,
  // Operator sign-in (issue 19).
  '018-sign-in': signIn,
  // Firmware rollouts (issue 19):
  '019-firmware': firmware,
};

const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export type Db = Kysely<Database>;

/** Where the data lives: a SQLite file (one process, the default) or a Postgres database (any number of processes). */
export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; poolSize?: number; onPoolError?: (err: Error) => void };

const UNWATCHED: DialectWatcher = { failed: () => undefined, succeeded: () => undefined, rollbackFailed: () => undefined };

/**
 * Opens the database and brings its schema up to date (forward only, in order; concurrent starts wait for each other).
 * The first error of a transaction wins over a failed rollback; a `watcher` (the server's storage health) hears of
 * every failed statement and committed write (watched-dialect.ts).
 */
export async function openDatabase(target: DatabaseTarget | string, watcher: DialectWatcher = UNWATCHED): Promise<Db> {
  const t: DatabaseTarget = typeof target === 'string' ? { kind: 'sqlite', file: target } : target;
  const dialect = t.kind === 'sqlite' ? sqliteDialect(t.file) : postgresDialect(t);
  const db = new Kysely<Database>({ dialect: watchedDialect(dialect, watcher) });
  // On Postgres the migrator holds an advisory lock and runs each migration in its own transaction.
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return db;
}

function sqliteDialect(file: string): Dialect {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // Events are acknowledged to devices (which then delete them) after commit: commits must survive power loss.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  keepStatements(sqlite);
  return new SqliteDialect({ database: sqlite });
}

/** Most statements kept: the server runs a few hundred distinct ones; beyond this they are prepared each time. */
const STATEMENT_CACHE_SIZE = 2000;

/**
 * Kysely's SQLite driver prepares every query anew (17 % of the server's time on device events, see
 * docs/performance.md): keep prepared statements by SQL text. Safe because each is run to completion at once
 * (`all`/`run`); nothing here streams a query (`iterate`), which would hold its statement.
 */
function keepStatements(sqlite: SQLite.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const statements = new Map<string, ReturnType<typeof prepare>>();
  sqlite.prepare = ((source: string) => {
    let statement = statements.get(source);
    if (!statement) {
      statement = prepare(source);
      if (statements.size < STATEMENT_CACHE_SIZE) statements.set(source, statement);
    }
    return statement;
  }) as typeof sqlite.prepare;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Every time, seq and count is a JS number in this code base: bigint (int8) and numeric (sums) come back as
 * numbers, as on SQLite. Integer ms times and seqs stay far below 2^53.
 */
const numericTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

function postgresDialect(t: { url: string; poolSize?: number; onPoolError?: (err: Error) => void }): Dialect {
  const pool = new pg.Pool({ connectionString: t.url, max: t.poolSize ?? 10, types: numericTypes });
  // An idle connection that breaks (the database restarted) must not crash the process; the pool replaces it.
  pool.on('error', (err) => t.onPoolError?.(err));
  // A connection in use that breaks (the backend terminated mid-transaction, 57P01): the statement in flight gets
  // the error and the pool drops the client when it comes back; its late 'error' event must not crash the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Kysely asks the pool for a connection per query or transaction. When none can be made (the database is down or
  // unreachable: ECONNREFUSED, a timeout), the error is a network one that names no database; it is given SQLSTATE
  // 08001 (the client could not establish the connection), so the HTTP shell answers STORAGE_UNAVAILABLE (503)
  // rather than INTERNAL (500), and the cause is kept for the log.
  // The callback form (pool.query uses it) is passed through as it is.
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<pg.PoolClient> | undefined;
  const connectOrExplain = (...args: unknown[]) => {
    if (typeof args[0] === 'function') return connect(...args);
    return (connect() as Promise<pg.PoolClient>).catch((err: unknown) => {
      throw new DatabaseUnreachableError(err);
    });
  };
  return new PostgresDialect({ pool: Object.assign(pool, { connect: connectOrExplain as typeof pool.connect }) });
}

/** No connection to the Postgres database could be made; `cause` says why. */
export class DatabaseUnreachableError extends Error {
  readonly code = '08001';
  constructor(cause: unknown) {
    super(`cannot connect to the database: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnreachableError';
  }
}

/** Which database a URL or file names, for logs (never the password). */
export function describeTarget(t: DatabaseTarget): string {
  if (t.kind === 'sqlite') return t.file;
  const u = new URL(t.url);
  u.password = '';
  return u.toString();
}
