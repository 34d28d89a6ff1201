import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { StateDeltaMessage } from '../../shared/messages.js';
import type { BrokerLink } from '../../server/broker/link.js';
import { inUnitOfWork, type UnitDeps } from '../../server/desired-state/unit-of-work.js';
import { ServerStats } from '../../server/stats.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A link that records what is published, failing for the topics it is told to. */
function recordingLink(failing: (topic: string) => boolean = () => false) {
  const sent: { topic: string; msg: StateDeltaMessage }[] = [];
  const link: BrokerLink = {
    async publish(topic, payload) {
      if (failing(topic)) throw new Error('broker gone');
      sent.push({ topic, msg: JSON.parse(payload.toString()) as StateDeltaMessage });
    },
    subscribe: async () => undefined,
  };
  return { link, sent };
}

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
  return { log, lines };
}

const history = (parcelId: string) => t.server.ctx.db.selectFrom('parcel_history').select(['type', 'source', 'source_ref', 'detail']).where('parcel_id', '=', parcelId).execute();

describe('unit of work', () => {
  it('publishes each desired-state change once the transaction committed, in the order they were made', async () => {
    const locker = await registerLocker(t.api);
    const { link, sent } = recordingLink();
    const deps: UnitDeps = { ...t.server.ctx, link };
    let publishedInside = -1;
    const versions = await inUnitOfWork(deps, async (uow) => {
      const a = await uow.changeDesiredState(locker.id, [{ op: 'compartment.service', id: 'A1', inService: false }], 1);
      const b = await uow.changeDesiredState(locker.id, [{ op: 'compartment.service', id: 'A1', inService: true }], 2);
      publishedInside = sent.length;
      return [a, b];
    });
    expect(publishedInside).toBe(0);
    expect(versions[1]).toBe((versions[0] ?? 0) + 1);
    expect(sent.map((s) => [s.topic, s.msg.version, s.msg.baseVersion])).toEqual([
      [`lockers/${locker.id}/state`, versions[0], (versions[0] ?? 0) - 1],
      [`lockers/${locker.id}/state`, versions[1], versions[0]],
    ]);
    const stored = await t.server.ctx.db.selectFrom('desired_changes').select('version').where('locker_id', '=', locker.id).where('version', 'in', versions).execute();
    expect(stored).toHaveLength(2);
  });

  it('publishes nothing and keeps nothing when the transaction rolls back', async () => {
    const locker = await registerLocker(t.api);
    const { link, sent } = recordingLink();
    const ran: string[] = [];
    await expect(
      inUnitOfWork({ ...t.server.ctx, link }, async (uow) => {
        await uow.changeDesiredState(locker.id, [{ op: 'compartment.service', id: 'A1', inService: false }], 1);
        uow.afterCommit('never', async () => void ran.push('after'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(sent).toEqual([]);
    expect(ran).toEqual([]);
    expect(await t.server.ctx.db.selectFrom('desired_changes').select('version').where('locker_id', '=', locker.id).execute()).toEqual([]);
  });

  it('a publish that fails is logged and counted, and the work queued after it still runs', async () => {
    const locker = await registerLocker(t.api);
    const { link } = recordingLink((topic) => topic.endsWith('/state'));
    const { log, lines } = capturingLog();
    const stats = new ServerStats();
    const ran: string[] = [];
    const version = await inUnitOfWork({ ...t.server.ctx, link, log, stats }, async (uow) => {
      const v = await uow.changeDesiredState(locker.id, [{ op: 'compartment.service', id: 'A1', inService: false }], 1);
      uow.afterCommit('second step failed', async () => void ran.push('after'));
      return v;
    });
    expect(version).toBeGreaterThan(0);
    expect(ran).toEqual(['after']);
    expect(stats.afterCommitFailures).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ lockerId: locker.id, msg: 'desired-state delta not published; the next snapshot carries it', err: { message: 'broker gone' } });
  });

  it('writes parcel history rows with their source, reference and detail', async () => {
    const locker = await registerLocker(t.api);
    const booked = await t.api.post<{ id: string }>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@example.com' }, reference: 'UOW-1' });
    await inUnitOfWork(t.server.ctx, (uow) =>
      uow.addHistory({ parcelId: booked.id, at: 5, type: 'note', status: 'booked', source: 'scheduler', sourceRef: 'test', detail: { why: 'story' } }),
    );
    const rows = await history(booked.id);
    expect(rows.map((r) => r.type)).toEqual(['booked', 'note']);
    expect(rows[1]).toEqual({ type: 'note', source: 'scheduler', source_ref: 'test', detail: JSON.stringify({ why: 'story' }) });
  });
});
