import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../server/store/database.js';
import { plainGroupCommit, type GroupCommitOptions } from '../../server/store/group-commit.js';

const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

/** The one group-commit helper every grouped writer uses (heartbeats, reports, event batches, bookings), on a real SQLite file. */
describe('group commit', () => {
  let dir: string;
  let db: Db;
  let failures: { err: unknown; size: number }[];
  let options: GroupCommitOptions;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lockstep-groups-'));
    db = await openDatabase(path.join(dir, 'lockstep.db'));
    await sql`create table notes (locker text not null, n integer not null)`.execute(db);
    failures = [];
    options = { db, maxGroup: 64, onGroupFailed: (err, size) => failures.push({ err, size }) };
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const notes = async () => (await sql<{ locker: string; n: number }>`select locker, n from notes order by rowid`.execute(db)).rows.map((r) => `${r.locker}#${r.n}`);

  it('writes a group in locker-id order, keeping the order of one locker’s items, and answers each caller with its own result', async () => {
    const seen: string[][] = [];
    const groups = plainGroupCommit<{ lockerId: string; n: number }, string>(options, async (_trx, items) => {
      seen.push(items.map((i) => `${i.lockerId}#${i.n}`));
      return items.map((i) => `${i.lockerId}#${i.n}`);
    });
    const answers = await Promise.all([
      groups.add({ lockerId: 'l_c', n: 1 }),
      groups.add({ lockerId: 'l_a', n: 2 }),
      groups.add({ lockerId: 'l_c', n: 3 }),
      groups.add({ lockerId: 'l_b', n: 4 }),
      groups.add({ lockerId: 'l_a', n: 5 }),
    ]);
    expect(seen).toEqual([['l_a#2', 'l_a#5', 'l_b#4', 'l_c#1', 'l_c#3']]);
    expect(answers).toEqual(['l_c#1', 'l_a#2', 'l_c#3', 'l_b#4', 'l_a#5']);
    expect(groups.stats()).toEqual({ groups: 1, items: 5, failedGroups: 0 });
  });

  it('plain: a group that fails is reported, then each item runs alone (retried after a deadlock), and only the bad one fails', async () => {
    let deadlocks = 1;
    const alone: boolean[] = [];
    const groups = plainGroupCommit<{ lockerId: string; bad?: boolean }, string>(options, async (trx, items, isAlone) => {
      alone.push(isAlone);
      for (const item of items) await sql`insert into notes values (${item.lockerId}, ${items.length})`.execute(trx);
      if (items.length > 1) throw deadlock();
      const [item] = items;
      if (item?.bad) throw new Error('bad item');
      if (item?.lockerId === 'l_a' && deadlocks-- > 0) throw deadlock();
      return [`ok ${item?.lockerId}`];
    });
    const results = await Promise.allSettled([groups.add({ lockerId: 'l_a' }), groups.add({ lockerId: 'l_b', bad: true }), groups.add({ lockerId: 'l_c' })]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['ok l_a', 'bad item', 'ok l_c']);
    expect(deadlocks).toBe(-1);
    // The group's writes and the failed attempts rolled back; the items that succeeded alone committed.
    expect(await notes()).toEqual(['l_a#1', 'l_c#1']);
    expect(alone).toEqual([false, true, true, true, true]);
    expect(failures.map((f) => [(f.err as Error).message, f.size])).toEqual([['deadlock detected', 3]]);
    expect(groups.stats()).toMatchObject({ groups: 0, failedGroups: 1 });
  });

  it('takes at most maxGroup items per transaction; the rest form the next group', async () => {
    const sizes: number[] = [];
    const groups = plainGroupCommit<{ lockerId: string }, number>({ ...options, maxGroup: 2 }, async (_trx, items) => {
      sizes.push(items.length);
      return items.map(() => 0);
    });
    await Promise.all(['l_a', 'l_b', 'l_c', 'l_d', 'l_e'].map((lockerId) => groups.add({ lockerId })));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
