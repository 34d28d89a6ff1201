import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { derivePin } from '../../server/codes/pins.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
type ParcelRead = ParcelView & { history: { type: string; source: string }[] };

let t: TestServer;
let locker: InProcessLocker;
beforeAll(async () => {
  t = await startTestServer();
  locker = await startSimLocker({
    api: t.api,
    name: 'E2E',
    location: { lat: 52.23, lon: 21.01 },
    compartments: [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'B1', size: 'M' },
    ],
    dataDir: t.dir,
    clock: systemClock,
    random: seededRandom(7),
  });
  await vi.waitFor(() => expect(locker.agent.ready, 'the locker to receive its configuration').toBe(true), { timeout: 10_000, interval: 10 });
});
afterAll(async () => {
  await locker.stop();
  await t.close();
});

const book = (reference: string) =>
  t.api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { phone: '+48600100200' }, reference });

async function pickupPin(parcelId: string): Promise<string> {
  const g = await t.server.ctx.db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'pickup').executeTakeFirstOrThrow();
  return derivePin(t.server.ctx.pinSecret, g.jti, t.server.ctx.config.pinLength);
}

/** The person pulls the released door, then pushes it shut. */
function useDoor(id: string) {
  expect(locker.hardware.openDoor(id)).toBe(true);
  locker.hardware.closeDoor(id);
}

describe('one parcel from booking to pickup, over real MQTT', () => {
  it('books, deposits with the drop-off PIN, releases the pickup code, picks up once, frees the compartment', async () => {
    const parcel = await book('E2E-1');
    expect(parcel.compartmentId).toBe('A1');
    await expect.poll(() => locker.store.grantCount(), { message: 'both grants to reach the locker' }).toBe(2);

    // The pickup grant is on the locker already, but it opens nothing before the locker saw the parcel go in.
    expect(await locker.agent.enterCode(await pickupPin(parcel.id), 'keypad')).toEqual({ refused: 'NOT_FILLED' });

    expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: 'A1' });
    expect(locker.hardware.isReleased('A1')).toBe(true);
    expect(locker.hardware.isReleased('A2')).toBe(false);
    useDoor('A1');
    await expect.poll(async () => (await t.api.get<ParcelView>(`/v1/parcels/${parcel.id}`)).status, { message: 'the deposit to reach the server' }).toBe('in_locker');

    // The code was used once; it does not open again.
    expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ refused: 'ALREADY_USED' });
    expect(locker.hardware.isReleased('A1')).toBe(false);

    const code = await awaitPickupCode(t.api, parcel.id, 5000);
    expect(code?.pin).toMatch(/^\d{8}$/);
    const lockerView = await t.api.get<{ compartments: { id: string; state: string }[] }>(`/v1/lockers/${locker.id}`);
    expect(lockerView.compartments.find((c) => c.id === 'A1')?.state).toBe('occupied');

    expect(await locker.agent.enterCode(code!.pin, 'keypad')).toEqual({ opened: 'A1' });
    useDoor('A1');
    await expect.poll(async () => (await t.api.get<ParcelView>(`/v1/parcels/${parcel.id}`)).status, { message: 'the pickup to reach the server' }).toBe('picked_up');
    expect(await locker.agent.enterCode(code!.pin, 'keypad')).toEqual({ refused: 'ALREADY_USED' });

    const read = await t.api.get<ParcelRead>(`/v1/parcels/${parcel.id}`);
    expect(read.history.map((h) => `${h.type}:${h.source}`)).toEqual(['booked:api', 'deposited:device', 'picked_up:device']);
    const after = await t.api.get<{ compartments: { id: string; state: string; parcelId: string | null }[] }>(`/v1/lockers/${locker.id}`);
    expect(after.compartments.find((c) => c.id === 'A1')).toMatchObject({ state: 'free', parcelId: null });
  });

  it('opens for a scanned QR grant and refuses a wrong PIN, recording the refusal as an event', async () => {
    const parcel = await book('E2E-2');
    await expect.poll(async () => (await locker.store.grantCount()) >= 4, { message: 'the new grants' }).toBe(true);
    const rejectedBefore = locker.tap.byType.get('code.rejected') ?? 0;
    expect(await locker.agent.enterCode('00000000', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
    expect(await locker.agent.enterCode('123', 'keypad')).toEqual({ refused: 'MALFORMED' });
    expect(await locker.agent.enterCode('not-a-grant', 'scanner')).toEqual({ refused: 'MALFORMED' });
    expect(locker.tap.byType.get('code.rejected')).toBe(rejectedBefore + 3);

    expect(await locker.agent.enterCode(parcel.dropoff.qr, 'scanner')).toEqual({ opened: parcel.compartmentId });
    useDoor(parcel.compartmentId);
    const code = await awaitPickupCode(t.api, parcel.id, 5000);
    expect(await locker.agent.enterCode(code!.qr, 'scanner')).toEqual({ opened: parcel.compartmentId });
    useDoor(parcel.compartmentId);
    await expect.poll(async () => (await t.api.get<ParcelView>(`/v1/parcels/${parcel.id}`)).status, { message: 'the pickup' }).toBe('picked_up');

    // Every event the locker recorded reached the server exactly once.
    await expect.poll(() => locker.store.outboxSize(), { message: 'the outbox to drain' }).toBe(0);
    const view = await t.api.get<{ events: { received: number; lastSeq: number } }>(`/v1/lockers/${locker.id}`);
    expect(view.events).toEqual({ received: locker.tap.seqs.size, lastSeq: Math.max(...locker.tap.seqs) });
  });

  it('drops malformed messages from the broker, counts them, and keeps working', async () => {
    const { topics } = await import('../../shared/topics.js');
    const before = locker.agent.sync.stats.invalidMessages;
    const link = t.server.ctx.link;
    await link.publish(topics.state(locker.id), Buffer.from('{oops'), { qos: 1 });
    await link.publish(topics.state(locker.id), Buffer.from(JSON.stringify({ v: 1, full: true, version: 99 })), { qos: 1 });
    await link.publish(topics.eventsAck(locker.id), Buffer.from(JSON.stringify({ v: 1, seqs: 'all' })), { qos: 1 });
    await expect.poll(() => locker.agent.sync.stats.invalidMessages - before, { message: 'three invalid messages counted' }).toBe(3);
    const parcel = await book('E2E-3');
    await expect.poll(async () => (await locker.store.grantCount()) >= 6, { message: 'the new grants' }).toBe(true);
    expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
    useDoor(parcel.compartmentId);
  });
});
