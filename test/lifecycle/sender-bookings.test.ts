import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../client/http-client.js';
import type { InProcessLocker } from '../../simulator/fleet.js';
import type { TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type Booked, type LockerFixture, type ParcelRead } from '../helpers/locker-fixture.js';
import { call, createAccount, databaseSnapshot } from '../security/api-helpers.js';
import { WebhookReceiver } from '../webhooks/receiver.js';

let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
let api: ApiClient;
let receiver: WebhookReceiver;

beforeAll(async () => {
  f = await startLockerFixture({ seed: 41, server: { webhookPollMs: 20 } });
  ({ t, locker } = f);
  const carrier = await createAccount(t, 'carrier', 'marketplace');
  api = new ApiClient(t.httpUrl, carrier.token);
  receiver = await new WebhookReceiver().listen();
  const res = await t.server.app.inject({ method: 'PUT', url: '/v1/me/webhook', headers: { authorization: `Bearer ${carrier.token}` }, payload: { url: `${receiver.url}/m` } });
  receiver.expect('/m', (res.json() as { secret: string }).secret);
});
afterAll(async () => {
  await f.close();
  await receiver.close();
});

type Code = { pin: string; qr: string };
const read = (id: string) => api.get<ParcelRead & { kind: string; sender: unknown }>(`/v1/parcels/${id}`);
const event = async (parcelId: string, type: string) => {
  const find = () => receiver.received.find((r) => r.json.type === type && (r.json.data.parcel as { id: string }).id === parcelId);
  await expect.poll(() => find() !== undefined, { message: `webhook ${type}` }).toBe(true);
  expect(find()!.signatureValid).toBe(true);
  return find()!.json.data as Record<string, unknown> & { parcel: { kind: string; status: string } };
};

/** The sender drops off with the code from `parcel.dropoff_code`; whoever collects uses the code from `parcel.deposited`. */
async function handOver(p: Booked): Promise<void> {
  const dropoff = await event(p.id, 'parcel.dropoff_code');
  const code = dropoff.dropoffCode as Code;
  expect(code.pin).toBe(p.dropoff.pin);
  expect(code.qr).toBe(p.dropoff.qr);
  await f.synced();
  expect(await locker.agent.enterCode(code.qr, 'scanner')).toEqual({ opened: p.compartmentId });
  f.cycle(p.compartmentId);
  const deposited = await event(p.id, 'parcel.deposited');
  const pickup = deposited.pickupCode as Code;
  expect(pickup.pin).not.toBe(code.pin);
  expect(await locker.agent.enterCode(pickup.pin, 'keypad')).toEqual({ opened: p.compartmentId });
  f.cycle(p.compartmentId);
  await expect.poll(async () => (await read(p.id)).status, { message: 'the pickup' }).toBe('picked_up');
}

describe('sender bookings', () => {
  it('a return: the sender drops it off with its own code, the carrier collects it with the pickup code', async () => {
    const p = await api.post<Booked>('/v1/parcels', {
      lockerId: locker.id,
      size: 'S',
      kind: 'return',
      sender: { phone: '+48 600 100 200' },
      recipient: { email: 'returns@carrier.example' },
      reference: 'RMA-1',
    });
    expect(p).toMatchObject({ kind: 'return', sender: { phone: '+48 600 100 200' }, status: 'booked' });
    const dropoff = await event(p.id, 'parcel.dropoff_code');
    expect(dropoff.sender).toEqual({ phone: '+48 600 100 200' });
    expect(dropoff.parcel.kind).toBe('return');
    await handOver(p);
    // The outbox keeps the grant id, never the code: it is derived again for every attempt.
    const stored = await t.server.ctx.db.selectFrom('webhook_deliveries').select(['event_type', 'payload', 'grant_jti']).where('parcel_id', '=', p.id).execute();
    expect(stored.find((d) => d.event_type === 'parcel.dropoff_code')?.grant_jti).toBeTruthy();
    for (const d of stored) expect(d.payload).not.toContain(p.dropoff.pin);
    const history = (await read(p.id)).history;
    expect(history.map((h) => `${h.type}:${h.source}`)).toEqual(['booked:api', 'deposited:device', 'picked_up:device']);
    expect(history[0]!.detail).toMatchObject({ kind: 'return' });
  }, 30_000);

  it('a peer-to-peer hand-over: the seller deposits, the buyer picks up with the code', async () => {
    const p = await api.post<Booked>('/v1/parcels', {
      lockerId: locker.id,
      size: 'S',
      kind: 'p2p',
      sender: { email: 'seller@x.example' },
      recipient: { email: 'buyer@x.example' },
      reference: 'P2P-1',
    });
    await handOver(p);
    const deposited = await event(p.id, 'parcel.deposited');
    expect(deposited.recipient).toEqual({ email: 'buyer@x.example' });
    expect(deposited.parcel.kind).toBe('p2p');
    // A delivery gets no drop-off code event: the carrier already has it from the booking answer.
    const d = await api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'D-1' });
    expect(d.kind).toBe('delivery');
    expect(d.sender).toBeNull();
    await event(d.id, 'parcel.booked');
    expect(receiver.received.some((r) => r.json.type === 'parcel.dropoff_code' && (r.json.data.parcel as { id: string }).id === d.id)).toBe(false);
    await api.post(`/v1/parcels/${d.id}/cancel`, {});
  }, 30_000);

  it('operators read the timeline and may extend; carriers only their own parcels', async () => {
    const p = await api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'ROLES' });
    const operator = await createAccount(t, 'operator', 'desk');
    const other = await createAccount(t, 'carrier', 'other');
    expect((await call(t, operator.token, 'GET', `/v1/parcels/${p.id}/timeline`)).body).toMatchObject({ parcelId: p.id, status: 'booked', entries: [{ type: 'booked', source: 'api' }] });
    // Allowed to ask, refused for the parcel's state (not deposited yet).
    expect((await call(t, operator.token, 'POST', `/v1/parcels/${p.id}/extend`, {})).body.error?.code).toBe('PARCEL_NOT_IN_LOCKER');
    expect((await call(t, other.token, 'GET', `/v1/parcels/${p.id}/timeline`)).body.error?.code).toBe('PARCEL_NOT_FOUND');
    expect((await call(t, undefined, 'GET', `/v1/parcels/${p.id}/timeline`)).status).toBe(401);
    await api.post(`/v1/parcels/${p.id}/cancel`, {});
  });

  it('refuses a sender booking without its sender, and changes nothing', async () => {
    await f.synced();
    await expect.poll(async () => (await f.view()).compartments.every((c) => c.state === 'free'), { message: 'the cancelled booking to release its compartment' }).toBe(true);
    const before = await databaseSnapshot(t);
    for (const kind of ['return', 'p2p']) {
      const err = await api.post('/v1/parcels', { lockerId: locker.id, size: 'S', kind, recipient: { email: 'r@x.example' }, reference: 'NO-SENDER' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('SENDER_REQUIRED');
    }
    const bad = await api.post('/v1/parcels', { lockerId: locker.id, size: 'S', kind: 'gift', sender: { email: 's@x.example' }, recipient: { email: 'r@x.example' }, reference: 'X' }).catch((e: unknown) => e);
    expect((bad as ApiError).code).toBe('VALIDATION_FAILED');
    expect((await databaseSnapshot(t)) === before).toBe(true);
  });
});
