import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../client/http-client.js';
import type { InProcessLocker } from '../../simulator/fleet.js';
import { awaitCode } from '../../simulator/people.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { registerLocker, type TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

const clock = new ShiftClock();
let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
beforeAll(async () => {
  f = await startLockerFixture({ clock, seed: 21, server: { depositWindowSec: 3600, pickupWindowSec: 7200 } });
  ({ t, locker } = f);
});
afterAll(() => f.close());

const book = (reference: string, size = 'S') => f.book(reference, size);
const read = (id: string) => f.read(id);
const synced = () => f.synced();

describe('time windows', () => {
  it('releases a reservation nobody used: the booking is cancelled, its codes revoked, the compartment freed', async () => {
    const p = await book('UNUSED');
    await synced();
    clock.shiftMs += 2 * 3600_000;
    await t.server.scheduler.runOnce();
    await expect.poll(async () => (await read(p.id)).status, { timeout: 10_000, message: 'the reservation to be released' }).toBe('cancelled');
    const history = (await read(p.id)).history.map((h) => `${h.type}:${h.source}`);
    expect(history).toContain('reservation_expired:scheduler');
    await synced();
    expect(await locker.agent.enterCode(p.dropoff.qr, 'scanner')).toHaveProperty('refused');
    await expect.poll(async () => (await f.view()).compartments.every((c) => c.state === 'free'), { message: 'the compartment to be free' }).toBe(true);
  });

  it('expires a parcel left past its pickup window and lets the carrier collect it back (returned)', async () => {
    const p = await book('NO-SHOW');
    await synced();
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    locker.hardware.openDoor(p.compartmentId);
    locker.hardware.closeDoor(p.compartmentId);
    await expect.poll(async () => (await read(p.id)).status, { message: 'the deposit' }).toBe('in_locker');
    const pickup = await awaitCode(t.api, p.id, 'pickup_code', 5000);

    clock.shiftMs += 3 * 3600_000;
    await t.server.scheduler.runOnce();
    await expect.poll(async () => (await read(p.id)).status, { timeout: 10_000, message: 'the pickup window to end' }).toBe('expired');
    await synced();
    // The recipient's code no longer opens; the carrier's collection code does.
    expect(await locker.agent.enterCode(pickup!.pin, 'keypad')).toHaveProperty('refused');
    const collect = await awaitCode(t.api, p.id, 'collection_code', 5000);
    expect(await locker.agent.enterCode(collect!.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    locker.hardware.openDoor(p.compartmentId);
    locker.hardware.closeDoor(p.compartmentId);
    await expect.poll(async () => (await read(p.id)).status, { message: 'the collection' }).toBe('returned');
    expect((await read(p.id)).history.map((h) => h.type)).toEqual(['booked', 'deposited', 'expired', 'collected']);
  });

  it('answers a full locker with the nearest lockers that have room', async () => {
    const near = await registerLocker(t.api, [{ id: 'N1', size: 'M' }]);
    await t.api.post('/v1/lockers', { name: 'Far', location: { lat: 54.35, lon: 18.65 }, compartments: [{ id: 'F1', size: 'L' }] });
    const a = await book('FULL-1');
    const b = await book('FULL-2');
    const err = await book('FULL-3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('NO_FREE_COMPARTMENT');
    const details = await fetch(`${t.httpUrl}/v1/parcels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'FULL-4' }),
    }).then((r) => r.json() as Promise<{ error: { details: { alternatives: { lockerId: string; distanceM: number }[] } } }>);
    const alternatives = details.error.details.alternatives;
    expect(alternatives[0]?.lockerId).toBe(near.id);
    expect(alternatives[0]?.distanceM).toBeLessThan(1000);
    expect(alternatives.length).toBeGreaterThanOrEqual(2);
    await t.api.post(`/v1/parcels/${a.id}/cancel`, {});
    await t.api.post(`/v1/parcels/${b.id}/cancel`, {});
  });
});
