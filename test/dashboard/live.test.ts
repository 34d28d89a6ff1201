import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../shared/codec.js';
import { topics } from '../../shared/topics.js';
import type { EventBatchMessage } from '../../shared/messages.js';
import { registerLocker } from '../../server/lockers/register-locker.js';
import type { LiveSnapshot, LiveUpdate } from '../../shared/api/dashboard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { openLive, type SseStream } from './sse.js';

const FLEET = 300;

let t: TestServer;
const ids: string[] = [];
beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < FLEET; i++) {
    const reg = { name: `Live ${i}`, location: { lat: 52 + i / 1000, lon: 21 }, compartments: [{ id: 'A1', size: 'S' as const }] };
    ids.push((await registerLocker(t.server.ctx, reg, 'admin:admin')).lockerId);
  }
});
afterAll(async () => {
  await t?.close();
});

const updates = (s: SseStream) => s.events.filter((e) => e.event === 'update').map((e) => ({ at: e.at, u: e.data as LiveUpdate }));

/** Every locker reports a forced door at once (through the broker, 50 deliveries at a time). */
async function burst(lockerIds: readonly string[], seq: number): Promise<void> {
  for (let i = 0; i < lockerIds.length; i += 50) {
    await Promise.all(
      lockerIds.slice(i, i + 50).map((lockerId) => {
        const batch: EventBatchMessage = { v: 1, events: [{ seq, id: `e${seq}${lockerId}`, bootId: 'boot1', at: Date.now(), type: 'door.forced_open', compartmentId: 'A1' }] };
        return t.server.ctx.link.publish(topics.events(lockerId), encode(batch), { qos: 1 });
      }),
    );
  }
}

describe('GET /v1/live', () => {
  it('needs an operator or admin token in the Authorization header', async () => {
    expect((await openLive(t.httpUrl, undefined)).status).toBe(401);
    const carrier = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Carrier', role: 'carrier' });
    expect((await openLive(t.httpUrl, carrier.token)).status).toBe(403);
  });

  it('starts with a snapshot, then batches a burst from every locker into at most one message per second', async () => {
    const operator = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Ops', role: 'operator' });
    const live = await openLive(t.httpUrl, operator.token);
    expect(live.status).toBe(200);
    await expect.poll(() => live.events.length > 0, { message: 'the snapshot' }).toBe(true);
    const snapshot = live.events[0]!;
    expect(snapshot.event).toBe('snapshot');
    expect((snapshot.data as LiveSnapshot).lockers).toHaveLength(FLEET);
    expect((snapshot.data as LiveSnapshot).totals).toMatchObject({ lockers: FLEET, offline: FLEET, alarms: { open: 0 } });

    await burst(ids, 1);
    await expect.poll(() => updates(live).at(-1)?.u.totals.alarms.open === FLEET, { timeout: 15_000, message: 'every alarm in the totals' }).toBe(true);
    const seen = updates(live);
    // Far fewer messages than events, never two within a second.
    expect(seen.length).toBeLessThan(FLEET / 10);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(900);
    const changed = new Set(seen.flatMap((s) => s.u.lockers.map((l) => l.id)));
    expect(changed.size).toBe(FLEET);
    const active = new Set(seen.flatMap((s) => s.u.activity));
    expect(active.size).toBe(FLEET);
    const alarms = seen.flatMap((s) => s.u.alarms.items);
    expect(new Set(alarms.map((a) => a.lockerId)).size).toBe(FLEET);
    live.close();
  });

  it('sends an acknowledged alarm, and only what changed, in the next update', async () => {
    const live = await openLive(t.httpUrl, t.server.adminToken);
    await expect.poll(() => live.events.length > 0, { message: 'the snapshot' }).toBe(true);
    const { items: alarms } = await t.api.get<{ items: { id: string; lockerId: string }[] }>(`/v1/alarms?lockerId=${ids[7]}`);
    await t.api.post(`/v1/alarms/${alarms[0]!.id}/acknowledge`, {});
    await expect.poll(() => updates(live).length > 0, { message: 'the update' }).toBe(true);
    const { u } = updates(live)[0]!;
    expect(u.lockers.map((l) => l.id)).toEqual([ids[7]]);
    expect(u.lockers[0]!.alarms).toEqual({ open: 0, acknowledged: 1 });
    expect(u.alarms.lockerIds).toEqual([ids[7]]);
    expect(u.alarms.items).toMatchObject([{ id: alarms[0]!.id, state: 'acknowledged', acknowledgedBy: 'admin:admin' }]);
    expect(u.totals.alarms).toEqual({ open: FLEET - 1, acknowledged: 1 });

    await t.api.post(`/v1/alarms/${alarms[0]!.id}/resolve`, {});
    await expect.poll(() => updates(live).length > 1, { message: 'the next update' }).toBe(true);
    expect(updates(live)[1]!.u.alarms).toEqual({ lockerIds: [ids[7]], items: [] });
    live.close();
  });

  it('ends open streams when the server stops', async () => {
    const other = await startTestServer();
    const live = await openLive(other.httpUrl, other.server.adminToken);
    await expect.poll(() => live.events.length > 0, { message: 'the snapshot' }).toBe(true);
    const stopped = other.close();
    await live.ended;
    await stopped;
  });
});
