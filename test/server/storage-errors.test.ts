import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../server/store/database.js';
import { classifyStorageError, storageErrorCode } from '../../server/store/storage-errors.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** The error `fn` throws (it must throw). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('storage error classifier', () => {
  it('maps SQLite codes: FULL is full; IOERR*, READONLY*, CANTOPEN are unavailable; others are not about storage', () => {
    expect(classifyStorageError(coded('SQLITE_FULL'))).toBe('STORAGE_FULL');
    for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_IOERR_SHMSIZE', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CANTOPEN']) {
      expect(classifyStorageError(coded(code)), code).toBe('STORAGE_UNAVAILABLE');
    }
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_BUSY', 'SQLITE_ERROR', 'SQLITE_MISMATCH']) expect(classifyStorageError(coded(code)), code).toBeUndefined();
  });

  it('maps Postgres SQLSTATEs: 53100 is full; other 53xxx, 25006, 57P01/02/03 and 08xxx are unavailable; constraints and aborts are not', () => {
    expect(classifyStorageError(coded('53100'))).toBe('STORAGE_FULL');
    for (const code of ['53200', '53300', '53400', '25006', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001']) {
      expect(classifyStorageError(coded(code)), code).toBe('STORAGE_UNAVAILABLE');
    }
    for (const code of ['23505', '23503', '40001', '40P01', '42P01', '57014', '22001']) expect(classifyStorageError(coded(code)), code).toBeUndefined();
  });

  it('maps file system codes, looks through causes, and ignores everything else', () => {
    expect(classifyStorageError(coded('ENOSPC'))).toBe('STORAGE_FULL');
    expect(classifyStorageError(coded('EDQUOT'))).toBe('STORAGE_FULL');
    expect(classifyStorageError(coded('EROFS'))).toBe('STORAGE_UNAVAILABLE');
    const wrapped = new Error('booking failed', { cause: new Error('statement failed', { cause: coded('SQLITE_FULL') }) });
    expect(classifyStorageError(wrapped)).toBe('STORAGE_FULL');
    expect(storageErrorCode(wrapped)).toBe('SQLITE_FULL');
    for (const err of [undefined, null, 'SQLITE_FULL', new Error('plain'), coded('ECONNRESET'), coded('FST_ERR_VALIDATION'), { code: 53100 }]) {
      expect(classifyStorageError(err)).toBeUndefined();
    }
  });

  it('knows real SQLite errors: a read-only database, a file that cannot be opened', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-storage-'));
    try {
      const file = path.join(dir, 'db.sqlite');
      new SQLite(file).exec('create table t (v text)').close();
      const readonly = new SQLite(file, { readonly: true });
      const err = await thrown(() => readonly.prepare('insert into t values (1)').run());
      readonly.close();
      expect((err as { code: string }).code).toMatch(/^SQLITE_READONLY/);
      expect(classifyStorageError(err)).toBe('STORAGE_UNAVAILABLE');
      // A folder where the file should be.
      const cantOpen = await thrown(() => new SQLite(dir));
      expect((cantOpen as { code: string }).code).toBe('SQLITE_CANTOPEN');
      expect(classifyStorageError(cantOpen)).toBe('STORAGE_UNAVAILABLE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('on Postgres', () => {
  let pg: TestPostgres;
  let db: Db;
  beforeAll(async () => {
    pg = await startPostgres();
    db = await openDatabase({ kind: 'postgres', url: await pg.createDatabase(), poolSize: 2, onPoolError: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await pg?.stop();
  });

  it('a write in a read-only transaction is 25006, storage unavailable', async () => {
    const err = await thrown(() =>
      db.transaction().setAccessMode('read only').execute((trx) => trx.insertInto('leases').values({ name: 'x', holder: 'y', expires_at: 1 }).execute()),
    );
    expect((err as { code: string }).code).toBe('25006');
    expect(classifyStorageError(err)).toBe('STORAGE_UNAVAILABLE');
  });

  it('a connection terminated mid-transaction reports 57P01, not the failed rollback on the dead connection', async () => {
    const err = await thrown(() => db.transaction().execute((trx) => sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx)));
    expect((err as { code?: string }).code).toBe('57P01');
    expect(classifyStorageError(err)).toBe('STORAGE_UNAVAILABLE');
    // The pool replaced the connection: the database answers again.
    expect((await sql<{ ok: number }>`select 1 as ok`.execute(db)).rows).toEqual([{ ok: 1 }]);
  });
});
