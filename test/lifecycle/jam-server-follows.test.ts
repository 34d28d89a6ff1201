import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeJwt } from 'jose';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent, StateDeltaMessage } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

/**
 * The server's side of `parcel.moved`, driven over real MQTT by a controller that sends exactly the events a test
 * needs (the whole flow with a real agent is in batch-deposit.test.ts and jam.test.ts).
 */
let t: TestServer;
let locker: RegisteredLocker;
let client: MqttClient;
let seq = 0;
beforeAll(async () => {
  t = await startTestServer();
  locker = await registerLocker(t.api, [
    { id: 'A1', size: 'S' },
    { id: 'B1', size: 'M' },
    { id: 'C1', size: 'L' },
  ]);
  client = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: locker.device.password, protocolVersion: 4, reconnectPeriod: 0 });
});
afterAll(async () => {
  await client.endAsync(true);
  await t.close();
});

async function send(events: Omit<DeviceEvent, 'seq' | 'id' | 'bootId' | 'at'>[]): Promise<number[]> {
  const batch = events.map((e) => ({ seq: ++seq, id: `ev${seq}`, bootId: 'boot1', at: Date.now(), ...e }) as DeviceEvent);
  await client.publishAsync(topics.events(locker.id), encode({ v: 1, events: batch }), { qos: 1 });
  const last = seq;
  await expect.poll(async () => (await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).events.lastSeq >= last, { message: 'the batch to be committed' }).toBe(true);
  return batch.map((e) => e.seq);
}

const book = (reference: string, size: string) =>
  t.api.post<{ id: string; compartmentId: string; dropoff: { pin: string; qr: string } }>('/v1/parcels', { lockerId: locker.id, size, recipient: { email: 'r@x.example' }, reference });
const read = (id: string) => t.api.get<{ compartmentId: string; status: string; history: { type: string; detail: Record<string, unknown> | null }[] }>(`/v1/parcels/${id}`);
const holders = async () => Object.fromEntries((await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).compartments.map((c) => [c.id, c.parcelId]));

describe('the server follows a parcel the locker moved', () => {
  it('moves the booking in one transaction; a booked parcel whose compartment it took is re-booked with the same PIN', async () => {
    const p = await book('MOVE-1', 'S');
    const q = await book('MOVE-2', 'M');
    expect([p.compartmentId, q.compartmentId]).toEqual(['A1', 'B1']);
    const oldDropoff = decodeJwt(q.dropoff.qr);
    const deltas: StateDeltaMessage[] = [];
    client.on('message', (topic, payload) => {
      const m = JSON.parse(payload.toString()) as StateDeltaMessage;
      if (topic === topics.state(locker.id) && m.full === false) deltas.push(m);
    });
    await client.subscribeAsync(topics.state(locker.id), { qos: 1 });
    // The locker, not yet knowing of q, put p into B1 after A1 jammed.
    await send([
      { type: 'lock.jammed', compartmentId: 'A1', parcelId: p.id, jti: 'j1' },
      { type: 'parcel.moved', compartmentId: 'B1', fromCompartmentId: 'A1', reason: 'LOCK_JAMMED', parcelId: p.id, jti: 'j1' },
    ]);
    expect((await read(p.id)).compartmentId).toBe('B1');
    // q takes the only other free compartment that fits (C1, L); the door sensor's truth holds B1.
    expect(await holders()).toEqual({ A1: null, B1: p.id, C1: q.id });
    const q1 = await read(q.id);
    expect(q1.compartmentId).toBe('C1');
    expect(q1.history.find((h) => h.type === 'rebooked')?.detail).toMatchObject({ from: 'B1', to: 'C1', cause: 'compartment_taken', takenBy: p.id });
    expect(t.server.stats.rebooked).toBe(1);
    const conflicts = (await t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${locker.id}&kind=compartment_conflict`)).items;
    expect(conflicts).toEqual([]);
    // One delta revokes q's drop-off and pickup grants and adds new ones for C1 with the same PIN hashes.
    await expect.poll(() => deltas.some((d) => d.changes.some((c) => c.op === 'grant.revoke' && c.jti === oldDropoff.jti))).toBe(true);
    const rebook = deltas.find((d) => d.changes.some((c) => c.op === 'grant.revoke' && c.jti === oldDropoff.jti));
    const added = (rebook?.changes ?? []).flatMap((c) => (c.op === 'grant.add' ? [decodeJwt(c.token)] : []));
    expect(added.map((g) => [g['act'], g['cmp']]).sort()).toEqual([['deposit', 'C1'], ['pickup', 'C1']]);
    expect(added.find((g) => g['act'] === 'deposit')?.['ph']).toBe(oldDropoff['ph']);
  });

  it('a compartment held by a parcel already in the locker raises compartment_conflict; the parcel lets go of its old one', async () => {
    // A1 is out of service after the jam, B1 holds p, C1 holds q (booked): q is deposited into C1.
    const q = (await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).compartments.find((c) => c.id === 'C1')?.parcelId;
    const p = (await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).compartments.find((c) => c.id === 'B1')?.parcelId;
    if (!q || !p) throw new Error('the first test leaves B1 and C1 held');
    await send([{ type: 'parcel.deposited', compartmentId: 'C1', parcelId: q }]);
    expect((await read(q)).status).toBe('in_locker');
    await send([{ type: 'parcel.moved', compartmentId: 'C1', fromCompartmentId: 'B1', reason: 'DOES_NOT_FIT', parcelId: p }]);
    expect(await holders()).toEqual({ A1: null, B1: null, C1: q });
    const alarms = (await t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${locker.id}&kind=compartment_conflict`)).items;
    expect(alarms).toEqual([expect.objectContaining({ compartmentId: 'C1', parcelId: p, state: 'open' })]);
    expect(t.server.stats.rebooked).toBe(1);
  });

  it('a second report of the same move, or a move from a compartment the parcel is not in, changes nothing', async () => {
    const p = await book('MOVE-3', 'S');
    // A1 is out of service after the jam: the smallest free fit is B1.
    expect(p.compartmentId).toBe('B1');
    await send([{ type: 'parcel.moved', compartmentId: 'A1', fromCompartmentId: 'C1', reason: 'DOES_NOT_FIT', parcelId: p.id }]);
    const read1 = await read(p.id);
    expect(read1.compartmentId).toBe('B1');
    expect(read1.history.find((h) => h.type === 'parcel.moved.ignored')?.detail).toMatchObject({ from: 'C1', to: 'A1', compartmentId: 'B1' });
    expect(await holders()).toMatchObject({ B1: p.id });
    // A compartment this locker does not have: recorded as ignored, counted, nothing moves.
    const anomalies = t.server.stats.eventsAnomalous;
    await send([{ type: 'parcel.moved', compartmentId: 'Z9', fromCompartmentId: 'B1', reason: 'LOCK_JAMMED', parcelId: p.id }]);
    const read2 = await read(p.id);
    expect(read2.compartmentId).toBe('B1');
    expect(read2.history.filter((h) => h.type === 'parcel.moved.ignored').at(-1)?.detail).toMatchObject({ from: 'B1', to: 'Z9', unknownCompartment: 'Z9', compartmentId: 'B1' });
    expect(t.server.stats.eventsAnomalous).toBe(anomalies + 1);
    expect(await holders()).toMatchObject({ B1: p.id });
    // An event for a parcel of no booking at this locker is acknowledged and ignored.
    const before = t.server.stats.eventsAnomalous;
    await send([{ type: 'parcel.moved', compartmentId: 'A1', fromCompartmentId: 'B1', reason: 'DOES_NOT_FIT', parcelId: 'p_nope' }]);
    expect(t.server.stats.eventsAnomalous).toBe(before + 1);
    expect(await holders()).toMatchObject({ B1: p.id });
  });
});
