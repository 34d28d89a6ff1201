import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { recordHeartbeat } from '../../server/sync/heartbeats.js';
import { recordLockerStatus, recordStateReport } from '../../server/sync/locker-reports.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function reported(lockerId: string) {
  return t.server.ctx.db.selectFrom('lockers').select(['reported_version', 'reported_seq']).where('id', '=', lockerId).executeTakeFirstOrThrow();
}

describe('status, state reports and heartbeats of one turn, written together', () => {
  it('a report that cannot be written fails alone; the others of its turn are recorded', async () => {
    const lockers = await Promise.all(Array.from({ length: 5 }, () => registerLocker(t.api)));
    // A real failure in the database for one report only.
    await sql`CREATE TRIGGER bad_report BEFORE UPDATE OF reported_version ON lockers WHEN NEW.reported_version = 999 BEGIN SELECT RAISE(ABORT, 'bad report'); END`.execute(t.server.ctx.db);
    const failedBefore = t.server.ctx.stats.groupCommitFailures.get('reports') ?? 0;
    try {
      const results = await Promise.allSettled(lockers.map((l, i) => recordStateReport(t.server.ctx, { lockerId: l.id, version: i === 2 ? 999 : 7, lastSeq: 40 + i })));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      // The failed group is counted (exported at /metrics), not swallowed.
      expect(t.server.ctx.stats.groupCommitFailures.get('reports')).toBe(failedBefore + 1);
      const metrics = await (await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${t.server.adminToken}` } })).text();
      expect(metrics).toContain(`lockstep_group_commit_failures_total{writer="reports"} ${failedBefore + 1}`);
      for (const [i, l] of lockers.entries()) {
        expect(await reported(l.id)).toEqual(i === 2 ? { reported_version: 0, reported_seq: 0 } : { reported_version: 7, reported_seq: 40 + i });
      }
    } finally {
      await sql`DROP TRIGGER bad_report`.execute(t.server.ctx.db);
    }
  });

  it('an older report arriving after a newer one in the same turn does not move the record back', async () => {
    const l = await registerLocker(t.api);
    await Promise.all([recordStateReport(t.server.ctx, { lockerId: l.id, version: 5, lastSeq: 12 }), recordStateReport(t.server.ctx, { lockerId: l.id, version: 3, lastSeq: 9 })]);
    expect(await reported(l.id)).toEqual({ reported_version: 5, reported_seq: 12 });
  });

  it('heartbeats of one turn each get their own locker desired version', async () => {
    const lockers = await Promise.all(Array.from({ length: 3 }, () => registerLocker(t.api)));
    // Distinct versions, so that a version given to the wrong locker shows.
    for (const [i, l] of lockers.entries()) await t.server.ctx.db.updateTable('lockers').set({ desired_version: 70 + i }).where('id', '=', l.id).execute();
    const versions = await Promise.all([...lockers, lockers[0]!].map((l) => recordHeartbeat(t.server.ctx, l.id)));
    expect(versions).toEqual([70, 71, 72, 70]);
    const rows = await t.server.ctx.db.selectFrom('lockers').select(['id', 'desired_version', 'online']).where('id', 'in', lockers.map((l) => l.id)).execute();
    expect(versions.slice(0, 3)).toEqual(lockers.map((l) => rows.find((r) => r.id === l.id)?.desired_version));
    expect(rows.every((r) => r.online === 1)).toBe(true);
    // Not a locker: no row, no version, and the others were not disturbed.
    expect(await recordHeartbeat(t.server.ctx, 'lk_0000000000000000')).toBeUndefined();
  });

  it('status messages of one turn: each locker gets its own state, in the order they came', async () => {
    const [a, b] = await Promise.all([registerLocker(t.api), registerLocker(t.api)]);
    await Promise.all([
      recordLockerStatus(t.server.ctx, { lockerId: a.id, online: true, bootId: 'boot-a' }),
      recordLockerStatus(t.server.ctx, { lockerId: b.id, online: true, bootId: 'boot-b1' }),
      // b's connection dropped and came back in the same turn: the last word wins.
      recordLockerStatus(t.server.ctx, { lockerId: b.id, online: false, bootId: 'boot-b1' }),
      recordLockerStatus(t.server.ctx, { lockerId: b.id, online: true, bootId: 'boot-b2' }),
    ]);
    const rows = await t.server.ctx.db.selectFrom('lockers').select(['id', 'online', 'boot_id']).where('id', 'in', [a.id, b.id]).orderBy('id').execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.online, r.boot_id]]))).toEqual({ [a.id]: [1, 'boot-a'], [b.id]: [1, 'boot-b2'] });
  });
});
