import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerContext } from '../../server/context.js';
import { openDatabase, type Db } from '../../server/store/database.js';
import { turnGroups } from '../../server/sync/turn-groups.js';

/** The grouping helper heartbeats, statuses and state reports share, on a real SQLite file. */
describe('turn groups', () => {
  let dir: string;
  let db: Db;
  let ctx: ServerContext;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lockstep-turns-'));
    db = await openDatabase(path.join(dir, 'lockstep.db'));
    // The helper uses the context only for its database.
    ctx = { db } as unknown as ServerContext;
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a group in locker-id order, keeping the order of one locker’s items', async () => {
    const seen: string[][] = [];
    const groups = turnGroups<{ lockerId: string; n: number }, string>(64, async (_ctx, _trx, items) => {
      seen.push(items.map((i) => `${i.lockerId}#${i.n}`));
      return items.map((i) => `${i.lockerId}#${i.n}`);
    });
    const answers = await Promise.all([
      groups.add(ctx, { lockerId: 'l_c', n: 1 }),
      groups.add(ctx, { lockerId: 'l_a', n: 2 }),
      groups.add(ctx, { lockerId: 'l_c', n: 3 }),
      groups.add(ctx, { lockerId: 'l_b', n: 4 }),
      groups.add(ctx, { lockerId: 'l_a', n: 5 }),
    ]);
    expect(seen).toEqual([['l_a#2', 'l_a#5', 'l_b#4', 'l_c#1', 'l_c#3']]);
    // Each caller still gets its own item's result.
    expect(answers).toEqual(['l_c#1', 'l_a#2', 'l_c#3', 'l_b#4', 'l_a#5']);
  });

  it('retries an item alone after a deadlock, and fails only the item that keeps failing', async () => {
    let deadlocks = 1;
    const groups = turnGroups<{ lockerId: string; bad?: boolean }, string>(64, async (_ctx, _trx, items) => {
      if (items.length > 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      const [item] = items;
      if (item?.bad) throw new Error('bad item');
      if (item?.lockerId === 'l_a' && deadlocks-- > 0) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return [`ok ${item?.lockerId}`];
    });
    const results = await Promise.allSettled([
      groups.add(ctx, { lockerId: 'l_a' }),
      groups.add(ctx, { lockerId: 'l_b', bad: true }),
      groups.add(ctx, { lockerId: 'l_c' }),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['ok l_a', 'bad item', 'ok l_c']);
    expect(deadlocks).toBe(-1);
  });
});
