import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../client/http-client.js';
import type { InProcessLocker } from '../../simulator/fleet.js';
import { awaitCode } from '../../simulator/people.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import type { TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type Booked, type LockerFixture, type ParcelRead } from '../helpers/locker-fixture.js';
import { call, createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { WebhookReceiver } from '../webhooks/receiver.js';

const MIN = 60_000;
const clock = new ShiftClock();
let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
let carrier: CreatedAccount;
let api: ApiClient;
let receiver: WebhookReceiver;

beforeAll(async () => {
  f = await startLockerFixture({
    clock,
    seed: 31,
    server: {
      depositWindowSec: 600,
      pickupWindowSec: 7200,
      pickupRemindersSec: [1800],
      extensionSec: 3600,
      maxExtensions: 1,
      lockerOfflineAlarmSec: 60,
      webhookPollMs: 20,
    },
    compartments: ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'].map((id) => ({ id, size: 'S' as const })),
  });
  ({ t, locker } = f);
  carrier = await createAccount(t, 'carrier', 'window carrier');
  api = new ApiClient(t.httpUrl, carrier.token);
  receiver = await new WebhookReceiver().listen();
  const res = await t.server.app.inject({ method: 'PUT', url: '/v1/me/webhook', headers: { authorization: `Bearer ${carrier.token}` }, payload: { url: `${receiver.url}/w` } });
  receiver.expect('/w', (res.json() as { secret: string }).secret);
});
afterAll(async () => {
  await f.close();
  await receiver.close();
});

const book = (reference: string) => api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
const read = (id: string) => api.get<ParcelRead>(`/v1/parcels/${id}`);
const events = (parcelId: string, type: string) =>
  receiver.received.filter((r) => r.json.type === type && (r.json.data.parcel as { id: string }).id === parcelId);
/** One scheduler tick at the clock's current time, then one webhook poll: whatever they would do is done. */
const tick = async () => {
  await t.server.scheduler.runOnce();
  await t.server.webhookWorker.runOnce();
};
const shiftTo = (ms: number) => {
  clock.shiftMs += ms - clock.now();
};

async function deposit(p: Booked): Promise<ParcelRead> {
  await f.synced();
  expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
  f.cycle(p.compartmentId);
  await expect.poll(async () => (await read(p.id)).pickupDeadline !== null, { message: 'the deposit and its window' }).toBe(true);
  return read(p.id);
}

describe('the pickup window', () => {
  it('stands still while the locker is offline: its end moves by the offline time and the same code opens past the old end', async () => {
    const p = await book('WIN-OFFLINE');
    const deposited = await deposit(p);
    const d0 = deposited.pickupDeadline!;
    expect(d0).toBe(deposited.depositedAt! + 7200_000);
    const pickup = await awaitCode(api, p.id, 'pickup_code', 5000);

    locker.proxy.cut();
    await expect.poll(async () => (await read(p.id)).windowPausedSince !== null, { timeout: 15_000, message: 'the window to pause (the will)' }).toBe(true);
    clock.shiftMs += 60 * MIN;
    locker.proxy.restore();
    await expect.poll(async () => (await read(p.id)).windowPausedSince, { timeout: 20_000, message: 'the window to run again' }).toBe(null);
    const d1 = (await read(p.id)).pickupDeadline!;
    // Moved by the hour the clock jumped plus the real seconds the cut lasted.
    expect(d1 - d0).toBeGreaterThanOrEqual(60 * MIN);
    expect(d1 - d0).toBeLessThan(61 * MIN);

    const timeline = await api.get<{ entries: { type: string; source: string; sourceRef: string | null }[] }>(`/v1/parcels/${p.id}/timeline`);
    expect(timeline.entries.map((e) => `${e.type}:${e.source}`)).toEqual(['booked:api', 'deposited:device', 'window_paused:device', 'window_resumed:device']);

    // The pickup grant ended before the new end: re-issued with the same PIN and a new QR, sent with the resume.
    await expect.poll(() => events(p.id, 'parcel.window_resumed').length, { message: 'the resumed webhook' }).toBe(1);
    const resumed = events(p.id, 'parcel.window_resumed')[0]!.json.data as { pickupCode: { pin: string; qr: string }; window: { pickupDeadline: number } };
    expect(resumed.window.pickupDeadline).toBe(d1);
    expect(resumed.pickupCode.pin).toBe(pickup!.pin);
    expect(resumed.pickupCode.qr).not.toBe(pickup!.qr);
    expect(events(p.id, 'parcel.window_paused')).toHaveLength(1);

    // Past the old end (and past the old grant's end): still in the locker, and the recipient's PIN opens.
    await f.synced();
    shiftTo(d0 + 40 * MIN);
    await tick();
    expect((await read(p.id)).status).toBe('in_locker');
    expect(await locker.agent.enterCode(pickup!.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    f.cycle(p.compartmentId);
    await expect.poll(async () => (await read(p.id)).status, { message: 'the pickup' }).toBe('picked_up');
  }, 60_000);

  it('credits a deposit made while the locker was offline with the rest of the outage', async () => {
    const p = await book('WIN-LATE');
    await f.synced();
    locker.proxy.cut();
    await expect.poll(async () => (await f.view()).online, { timeout: 15_000, message: 'the server to see the locker offline' }).toBe(false);
    const recorded = locker.tap.byType.get('parcel.deposited') ?? 0;
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    f.cycle(p.compartmentId);
    await expect.poll(() => (locker.tap.byType.get('parcel.deposited') ?? 0) > recorded, { message: 'the locker to record the deposit' }).toBe(true);
    // Less than the deposit window (10 min): the reservation is still good when the event arrives.
    clock.shiftMs += 5 * MIN;
    locker.proxy.restore();
    await expect.poll(async () => (await read(p.id)).pickupDeadline !== null, { timeout: 20_000, message: 'the deposit after reconnecting' }).toBe(true);
    const r = await read(p.id);
    // Deposited (locker time) five minutes before the server could know: they do not count.
    const credit = r.pickupDeadline! - r.depositedAt! - 7200_000;
    expect(credit).toBeGreaterThanOrEqual(5 * MIN);
    expect(credit).toBeLessThan(6 * MIN);
    expect(r.history.map((h) => h.type)).toEqual(['booked', 'deposited']);
    expect(r.windowPausedSince).toBeNull();
  }, 60_000);

  it('raises one offline alarm for a locker gone too long and resolves it when the locker is back', async () => {
    const alarms = () => call(t, t.server.adminToken, 'GET', `/v1/alarms?lockerId=${locker.id}&kind=locker_offline`).then((r) => r.body.items as AlarmView[]);
    await expect.poll(async () => (await alarms()).every((a) => a.state === 'resolved'), { timeout: 40_000, message: 'earlier offline alarms to be resolved' }).toBe(true);
    const before = (await alarms()).length;
    locker.proxy.cut();
    await expect.poll(async () => (await f.view()).online, { timeout: 15_000, message: 'the server to see the locker offline' }).toBe(false);
    clock.shiftMs += 2 * MIN;
    await tick();
    await expect.poll(async () => (await alarms()).some((a) => a.state === 'open'), { timeout: 10_000, message: 'the offline alarm' }).toBe(true);
    await tick();
    await tick();
    const open = (await alarms()).filter((a) => a.state !== 'resolved');
    expect(open).toHaveLength(1);
    expect(open[0]!.count).toBe(1);
    locker.proxy.restore();
    await expect.poll(async () => (await alarms()).every((a) => a.state === 'resolved'), { timeout: 20_000, message: 'the alarm to resolve itself' }).toBe(true);
    const all = await alarms();
    expect(all).toHaveLength(before + 1);
    expect(all.find((a) => a.id === open[0]!.id)).toMatchObject({ resolvedBy: 'system' });
  }, 60_000);

  it('extends once through the API; a second extension and one before the deposit are refused with a code', async () => {
    const p = await book('WIN-EXTEND');
    const early = await api.post(`/v1/parcels/${p.id}/extend`, {}).catch((e: unknown) => e);
    expect((early as ApiError).code).toBe('PARCEL_NOT_IN_LOCKER');
    const deposited = await deposit(p);
    const pickup = await awaitCode(api, p.id, 'pickup_code', 5000);

    const extended = await api.post<ParcelRead>(`/v1/parcels/${p.id}/extend`, {});
    expect(extended.extensions).toBe(1);
    expect(extended.pickupDeadline).toBe(deposited.pickupDeadline! + 3600_000);
    const again = await api.post(`/v1/parcels/${p.id}/extend`, {}).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).code).toBe('EXTENSION_LIMIT_REACHED');
    expect((await read(p.id)).pickupDeadline).toBe(extended.pickupDeadline);

    // Another carrier cannot see it, so cannot extend it.
    const other = await createAccount(t, 'carrier', 'another carrier');
    expect((await call(t, other.token, 'POST', `/v1/parcels/${p.id}/extend`, {})).body.error?.code).toBe('PARCEL_NOT_FOUND');

    await expect.poll(() => events(p.id, 'parcel.extended').length, { message: 'the extended webhook' }).toBe(1);
    const data = events(p.id, 'parcel.extended')[0]!.json.data as { pickupCode: { pin: string }; window: { extensions: number; pickupDeadline: number } };
    expect(data.window).toEqual({ pickupDeadline: extended.pickupDeadline, extensions: 1 });
    expect(data.pickupCode.pin).toBe(pickup!.pin);
    expect((await read(p.id)).history.map((h) => `${h.type}:${h.source}`)).toContain('extended:api');

    // Past the original end, before the extended one: still waiting; after it: expired.
    shiftTo(deposited.pickupDeadline! + 10 * MIN);
    await tick();
    expect((await read(p.id)).status).toBe('in_locker');
    shiftTo(extended.pickupDeadline! + MIN);
    await tick();
    await expect.poll(async () => (await read(p.id)).status, { message: 'the extended window to end' }).toBe('expired');
    const after = await api.post(`/v1/parcels/${p.id}/extend`, {}).catch((e: unknown) => e);
    expect((after as ApiError).code).toBe('PARCEL_NOT_IN_LOCKER');
  }, 60_000);

  it('stands still while the compartment is out of service (an operator took it out)', async () => {
    const p = await book('WIN-SERVICE');
    const d0 = (await deposit(p)).pickupDeadline!;
    const service = (inService: boolean) =>
      call(t, t.server.adminToken, 'POST', `/v1/lockers/${locker.id}/commands`, { type: 'set_service', compartmentId: p.compartmentId, inService, reason: 'door hinge' });
    expect((await service(false)).status).toBe(202);
    await expect.poll(async () => (await read(p.id)).windowPausedSince !== null, { message: 'the window to pause' }).toBe(true);
    clock.shiftMs += 30 * MIN;
    expect((await service(true)).status).toBe(202);
    await expect.poll(async () => (await read(p.id)).windowPausedSince, { message: 'the window to run again' }).toBe(null);
    const moved = (await read(p.id)).pickupDeadline! - d0;
    expect(moved).toBeGreaterThanOrEqual(30 * MIN);
    expect(moved).toBeLessThan(31 * MIN);
    const entries = (await read(p.id)).history.filter((h) => h.type.startsWith('window_'));
    expect(entries.map((h) => `${h.type}:${h.source}`)).toEqual(['window_paused:scheduler', 'window_resumed:scheduler']);
    expect(entries[0]!.detail).toMatchObject({ reason: 'compartment_out_of_service' });
  }, 60_000);

  it('reminds once, the configured lead before the end, with the pickup code', async () => {
    const p = await book('WIN-REMIND');
    const deposited = await deposit(p);
    const pickup = await awaitCode(api, p.id, 'pickup_code', 5000);
    await tick();
    expect(events(p.id, 'parcel.reminder')).toHaveLength(0);

    shiftTo(deposited.pickupDeadline! - 29 * MIN);
    await tick();
    await expect.poll(() => events(p.id, 'parcel.reminder').length, { message: 'the reminder' }).toBe(1);
    const data = events(p.id, 'parcel.reminder')[0]!.json.data as { pickupCode: { pin: string }; window: { pickupDeadline: number; leadSec: number } };
    expect(data.window).toEqual({ pickupDeadline: deposited.pickupDeadline, leadSec: 1800 });
    expect(data.pickupCode.pin).toBe(pickup!.pin);
    clock.shiftMs += 10 * MIN;
    await tick();
    expect(events(p.id, 'parcel.reminder')).toHaveLength(1);
    expect((await read(p.id)).history.filter((h) => h.type === 'reminder').map((h) => h.source)).toEqual(['scheduler']);
  }, 60_000);
});
