import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeJwt } from 'jose';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { call, createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { WebhookReceiver } from '../webhooks/receiver.js';

/**
 * Re-booking (server/parcels/compartment-conflict.ts) as a carrier sees it: a parcel booked by a carrier with a
 * webhook loses its compartment to a parcel the locker moved there, gets another one with the same PINs, and the
 * carrier's endpoint receives the new drop-off code. And the other way: nothing free, nothing moves, an alarm.
 * The locker is a controller that sends exactly the events a test needs, over real MQTT.
 */
let t: TestServer;
let receiver: WebhookReceiver;
let carrier: CreatedAccount;
const links: MqttClient[] = [];

beforeAll(async () => {
  t = await startTestServer({ webhookPollMs: 20 });
  receiver = await new WebhookReceiver().listen();
  carrier = await createAccount(t, 'carrier', 'rebooking carrier');
  const res = await call(t, carrier.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}/hook` });
  expect(res.status).toBe(200);
  receiver.expect('/hook', res.body.secret as string);
});
afterAll(async () => {
  for (const c of links) await c.endAsync(true);
  await t.close();
  await receiver.close();
});

interface Booked {
  id: string;
  compartmentId: string;
  dropoff: { pin: string; qr: string };
}

/** A registered locker, its MQTT link and a `send` that waits until the batch is committed. */
async function lockerLink(compartments: { id: string; size: string }[]) {
  const locker: RegisteredLocker = await registerLocker(t.api, compartments);
  const client = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: locker.device.password, protocolVersion: 4, reconnectPeriod: 0 });
  links.push(client);
  let seq = 0;
  const send = async (events: Omit<DeviceEvent, 'seq' | 'id' | 'bootId' | 'at'>[]) => {
    const batch = events.map((e) => ({ seq: ++seq, id: `ev${seq}`, bootId: 'boot1', at: Date.now(), ...e }) as DeviceEvent);
    await client.publishAsync(topics.events(locker.id), encode({ v: 1, events: batch }), { qos: 1 });
    const last = seq;
    await expect.poll(async () => (await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).events.lastSeq >= last, { message: 'the batch to be committed' }).toBe(true);
  };
  const book = async (reference: string): Promise<Booked> => {
    const res = await call(t, carrier.token, 'POST', '/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
    expect(res.status).toBe(201);
    return res.body as unknown as Booked;
  };
  const holders = async () => Object.fromEntries((await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).compartments.map((c) => [c.id, c.parcelId]));
  const alarms = async () => (await t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${locker.id}&kind=compartment_conflict`)).items;
  return { locker, send, book, holders, alarms };
}

const grantsOf = (parcelId: string) =>
  t.server.ctx.db.selectFrom('grants').select(['jti', 'action', 'status', 'pin_hash', 'compartment_id', 'token']).where('parcel_id', '=', parcelId).orderBy('jti').execute();

describe('re-booking a parcel whose compartment the locker filled', () => {
  it("keeps both PINs, names the new compartment in new grants, and sends the carrier the new drop-off code", async () => {
    const l = await lockerLink([
      { id: 'A1', size: 'S' },
      { id: 'B1', size: 'S' },
      { id: 'C1', size: 'S' },
    ]);
    const p = await l.book('RB-1');
    const q = await l.book('RB-2');
    expect([p.compartmentId, q.compartmentId]).toEqual(['A1', 'B1']);
    const before = await grantsOf(q.id);
    await l.send([
      { type: 'lock.jammed', compartmentId: 'A1', parcelId: p.id },
      { type: 'parcel.moved', compartmentId: 'B1', fromCompartmentId: 'A1', reason: 'LOCK_JAMMED', parcelId: p.id },
    ]);
    expect(await l.holders()).toEqual({ A1: null, B1: p.id, C1: q.id });
    expect(await l.alarms()).toEqual([]);

    // The old drop-off and pickup grants revoked, new ones for C1 with the same PIN hashes.
    const after = await grantsOf(q.id);
    for (const action of ['deposit', 'pickup'] as const) {
      const old = before.find((g) => g.action === action);
      const next = after.find((g) => g.action === action && g.status === 'live');
      expect(after.find((g) => g.jti === old?.jti)?.status).toBe('revoked');
      expect(next?.compartment_id).toBe('C1');
      expect(next?.pin_hash).toBe(old?.pin_hash);
      expect(decodeJwt(next?.token ?? '')['cmp']).toBe('C1');
    }

    // The carrier's endpoint gets the new drop-off code: the PIN it had, the new QR.
    await expect.poll(() => receiver.on('/hook').some((r) => r.json.type === 'parcel.dropoff_code'), { message: 'the webhook to arrive' }).toBe(true);
    const hook = receiver.on('/hook').find((r) => r.json.type === 'parcel.dropoff_code');
    expect(hook?.signatureValid).toBe(true);
    const data = hook?.json.data as { parcel: { id: string; compartmentId: string }; cause: string; dropoffCode: { pin: string; qr: string } };
    expect(data.parcel).toMatchObject({ id: q.id, compartmentId: 'C1' });
    expect(data.cause).toBe('compartment_taken');
    expect(data.dropoffCode.pin).toBe(q.dropoff.pin);
    expect(data.dropoffCode.qr).toBe(after.find((g) => g.action === 'deposit' && g.status === 'live')?.token);
    expect(data.dropoffCode.qr).not.toBe(q.dropoff.qr);
  });

  it('with nothing free that fits, the booked parcel keeps its compartment and its grants; the operator is alarmed', async () => {
    const l = await lockerLink([
      { id: 'A1', size: 'S' },
      { id: 'B1', size: 'S' },
    ]);
    const p = await l.book('RB-3');
    const q = await l.book('RB-4');
    const before = await grantsOf(q.id);
    // A1 jammed (out of service): the only other compartment is the one q holds.
    await l.send([
      { type: 'lock.jammed', compartmentId: 'A1', parcelId: p.id },
      { type: 'parcel.moved', compartmentId: 'B1', fromCompartmentId: 'A1', reason: 'LOCK_JAMMED', parcelId: p.id },
    ]);
    expect(await l.holders()).toEqual({ A1: null, B1: q.id });
    expect(await grantsOf(q.id)).toEqual(before);
    expect((await t.api.get<{ compartmentId: string }>(`/v1/parcels/${p.id}`)).compartmentId).toBe('B1');
    expect(await l.alarms()).toEqual([expect.objectContaining({ compartmentId: 'B1', parcelId: p.id, state: 'open' })]);
    expect(receiver.on('/hook').filter((r) => r.json.type === 'parcel.dropoff_code' && (r.json.data as { parcel: { id: string } }).parcel.id === q.id)).toEqual([]);
  });

  it('a drop-off code already accepted keeps the parcel where it is (its courier may be at the door)', async () => {
    const l = await lockerLink([
      { id: 'A1', size: 'S' },
      { id: 'B1', size: 'S' },
      { id: 'C1', size: 'S' },
    ]);
    const p = await l.book('RB-5');
    const q = await l.book('RB-6');
    const qDropoff = (await grantsOf(q.id)).find((g) => g.action === 'deposit');
    await l.send([{ type: 'code.accepted', compartmentId: 'B1', parcelId: q.id, jti: qDropoff?.jti, action: 'deposit' }]);
    await l.send([
      { type: 'lock.jammed', compartmentId: 'A1', parcelId: p.id },
      { type: 'parcel.moved', compartmentId: 'B1', fromCompartmentId: 'A1', reason: 'LOCK_JAMMED', parcelId: p.id },
    ]);
    expect(await l.holders()).toEqual({ A1: null, B1: q.id, C1: null });
    expect(await l.alarms()).toEqual([expect.objectContaining({ compartmentId: 'B1', parcelId: p.id })]);
  });
});
