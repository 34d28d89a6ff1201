import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../server/store/database.js';
import { prepareQuery } from '../../server/store/prepared-query.js';

describe('prepared queries', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-prepared-'));
    db = await openDatabase(path.join(dir, 'db.sqlite'));
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const insertChange = prepareQuery((d, row: { locker_id: string; version: number; changes: string; created_at: number }) =>
    d.insertInto('desired_changes').values(row),
  );
  const named = prepareQuery((d, a: { names: string[] }) =>
    d.selectFrom('desired_changes').select('locker_id as id').where('changes', 'in', a.names).orderBy('locker_id'),
  );

  it('runs one compiled query with new values each time, on the database or in a transaction', async () => {
    const row = (id: string, name: string) => ({ locker_id: id, version: 1, changes: name, created_at: 3 });
    await insertChange.run(db, row('lk_a', 'one'));
    await db.transaction().execute((trx) => insertChange.run(trx, row('lk_b', 'two')));
    await insertChange.run(db, row('lk_c', 'three'));
    expect((await named.run(db, { names: ['one', 'three'] })).rows).toEqual([{ id: 'lk_a' }, { id: 'lk_c' }]);
    // Another shape (list length) is another compiled query, not a wrong reuse of the first.
    expect((await named.run(db, { names: ['two'] })).rows).toEqual([{ id: 'lk_b' }]);
    expect((await named.run(db, { names: ['one', 'two', 'three'] })).rows).toHaveLength(3);
  });

  it('refuses a missing value instead of running the query with a stale one', async () => {
    await expect(named.run(db, { names: [undefined as unknown as string] })).rejects.toThrow(/no value/);
  });
});
