import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeviceEvent } from '../../shared/messages.js';
import { handleEventBatch } from '../../server/sync/handle-events.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** The events a locker records for parcels that go in and out, in seq order. */
async function scenario(parcels: number) {
  const locker = await registerLocker(t.api, [
    { id: 'A1', size: 'S' },
    { id: 'A2', size: 'S' },
    { id: 'A3', size: 'S' },
  ]);
  const log: DeviceEvent[] = [];
  const ids: string[] = [];
  let seq = 0;
  const add = (e: Omit<DeviceEvent, 'seq' | 'id' | 'bootId' | 'at'>) => {
    seq++;
    log.push({ seq, id: `e${seq}`, bootId: 'b1', at: Date.now() + seq, ...e });
  };
  for (let i = 0; i < parcels; i++) {
    const p = await t.api.post<ParcelView>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: `ORD-${i}` });
    ids.push(p.id);
    const grants = await t.server.ctx.db.selectFrom('grants').select(['jti', 'action']).where('parcel_id', '=', p.id).execute();
    const jti = (a: string) => grants.find((g) => g.action === a)?.jti ?? '';
    const c = p.compartmentId;
    add({ type: 'code.rejected', reason: 'UNKNOWN_CODE', via: 'keypad' });
    add({ type: 'code.accepted', jti: jti('deposit'), action: 'deposit', parcelId: p.id, compartmentId: c, via: 'keypad' });
    add({ type: 'door.opened', jti: jti('deposit'), parcelId: p.id, compartmentId: c });
    add({ type: 'door.closed', jti: jti('deposit'), parcelId: p.id, compartmentId: c });
    add({ type: 'parcel.deposited', jti: jti('deposit'), parcelId: p.id, compartmentId: c });
    add({ type: 'code.accepted', jti: jti('pickup'), action: 'pickup', parcelId: p.id, compartmentId: c, via: 'scanner' });
    add({ type: 'door.opened', jti: jti('pickup'), parcelId: p.id, compartmentId: c });
    add({ type: 'door.closed', jti: jti('pickup'), parcelId: p.id, compartmentId: c });
    add({ type: 'parcel.picked_up', jti: jti('pickup'), parcelId: p.id, compartmentId: c });
  }
  return { lockerId: locker.id, log, ids };
}

describe('device events in any order, any number of times', () => {
  it('end in the same state as in order, once: every parcel picked up, every compartment free, every seq once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.infiniteStream(fc.nat()),
        async (parcels, sizes, duplicates, order) => {
          const { lockerId, log, ids } = await scenario(parcels);
          // Cut the log into batches, resend some of them (MQTT redelivery, device resends), shuffle everything.
          const batches: DeviceEvent[][] = [];
          for (let i = 0, k = 0; i < log.length; k++) {
            const n = sizes[k % sizes.length] ?? 1;
            batches.push(log.slice(i, i + n));
            i += n;
          }
          for (const d of duplicates) batches.push(batches[d % batches.length] ?? []);
          const keyed = batches.map((b) => ({ b, key: order.next().value as number }));
          keyed.sort((x, y) => x.key - y.key);
          for (const { b } of keyed) if (b.length) await handleEventBatch(t.server.ctx, lockerId, { v: 1, events: [...b].reverse() });

          for (const id of ids) expect((await t.api.get<ParcelView>(`/v1/parcels/${id}`)).status).toBe('picked_up');
          const db = t.server.ctx.db;
          const held = await db.selectFrom('compartments').select('parcel_id').where('locker_id', '=', lockerId).where('parcel_id', 'is not', null).execute();
          expect(held).toEqual([]);
          const stored = await db.selectFrom('device_events').select('seq').where('locker_id', '=', lockerId).execute();
          expect(stored.map((e) => Number(e.seq)).sort((a, b) => a - b)).toEqual(log.map((e) => e.seq));
          const grants = await db.selectFrom('grants').select('uses').where('locker_id', '=', lockerId).execute();
          expect(grants.every((g) => g.uses === 1)).toBe(true);
          const alarms = await db.selectFrom('alarms').select('kind').where('locker_id', '=', lockerId).execute();
          expect(alarms).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
