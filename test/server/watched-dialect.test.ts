import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { watchedDialect } from '../../server/store/watched-dialect.js';

/** The storage health tracker learns of every write that committed, built by Kysely or written as raw SQL. */
describe('the watched dialect', () => {
  let db: Kysely<{ t: { id: number; v: string } }> | undefined;
  afterEach(async () => {
    await db?.destroy();
  });

  it('counts raw writes that changed rows, not raw reads nor writes that matched nothing', async () => {
    const seen = { succeeded: 0, failed: 0 };
    db = new Kysely({
      dialect: watchedDialect(new SqliteDialect({ database: new SQLite(':memory:') }), {
        succeeded: () => void seen.succeeded++,
        failed: () => void seen.failed++,
        rollbackFailed: () => undefined,
      }),
    });
    await sql`create table t (id integer primary key, v text not null)`.execute(db);
    await db.insertInto('t').values({ id: 1, v: 'built' }).execute();
    expect(seen.succeeded).toBe(1);
    await sql`insert into t (id, v) values (2, 'raw')`.execute(db);
    expect(seen.succeeded).toBe(2);
    await sql`select * from t`.execute(db);
    await sql`update t set v = 'x' where id = 99`.execute(db);
    expect(seen.succeeded).toBe(2);
    // In a transaction: counted once it committed.
    await db.transaction().execute(async (trx) => {
      await sql`with n as (select 3 as id) insert into t (id, v) select id, 'cte' from n`.execute(trx);
    });
    expect(seen.succeeded).toBe(3);
    await expect(sql`insert into t (id, v) values (1, 'dup')`.execute(db)).rejects.toThrow();
    expect(seen).toEqual({ succeeded: 3, failed: 1 });
  });
});
