import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { derivePin } from '../../server/codes/pins.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

const DOOR_OPEN_TIMEOUT_MS = 5000;
const clock = new ManualClock(Date.now());
let f: LockerFixture;
beforeAll(async () => {
  f = await startLockerFixture({
    clock,
    compartments: [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'B1', size: 'M' },
    ],
    server: { unlockAttempts: 3, doorOpenTimeoutMs: DOOR_OPEN_TIMEOUT_MS },
  });
});
afterAll(() => f.close());

async function pickupPin(parcelId: string): Promise<string> {
  const { db, pinSecret, config } = f.t.server.ctx;
  const g = await db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'pickup').executeTakeFirstOrThrow();
  return derivePin(pinSecret, g.jti, config.pinLength);
}

/** Lets the door wait run out until the lock of `id` was pulsed `n` times. */
async function pulsesUntil(id: string, n: number): Promise<void> {
  while (f.locker.hardware.pulses(id) < n) {
    const before = f.locker.hardware.pulses(id);
    clock.advance(DOOR_OPEN_TIMEOUT_MS);
    await expect.poll(() => f.locker.hardware.pulses(id) > before, { message: `pulse ${before + 1} of ${id}` }).toBe(true);
  }
}

const alarms = (q: string) => f.t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${f.locker.id}&${q}`).then((r) => r.items);

describe('a lock that does not release', () => {
  it('is retried, then the compartment is faulty and the deposit goes on in another one with the same code', async () => {
    const { hardware, agent } = f.locker;
    const parcel = await f.book('JAM-1');
    expect(parcel.compartmentId).toBe('A1');
    await f.synced();
    hardware.jam('A1');

    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: 'A1' });
    await pulsesUntil('A1', 3);
    expect(hardware.isReleased('A2')).toBe(false);
    // The third wait runs out: jammed after the configured 3 pulses, and the next fitting compartment opens.
    clock.advance(DOOR_OPEN_TIMEOUT_MS);
    await expect.poll(() => hardware.isReleased('A2'), { message: 'the other compartment to open' }).toBe(true);
    expect(hardware.pulses('A1')).toBe(3);
    f.cycle('A2');
    await expect.poll(async () => (await f.read(parcel.id)).status, { message: 'the deposit to reach the server' }).toBe('in_locker');

    const read = await f.read(parcel.id);
    expect(read.compartmentId).toBe('A2');
    expect(read.history.find((h) => h.type === 'moved')?.detail).toMatchObject({ from: 'A1', to: 'A2', reason: 'LOCK_JAMMED' });
    const view = await f.view();
    expect(view.compartments.find((c) => c.id === 'A1')).toMatchObject({ state: 'out_of_service', inService: false, parcelId: null });
    expect(view.compartments.find((c) => c.id === 'A2')).toMatchObject({ state: 'occupied', parcelId: parcel.id });
    expect(await alarms('kind=lock_jam')).toEqual([expect.objectContaining({ compartmentId: 'A1', state: 'open' })]);

    // The recipient's code names A1; the locker opens A2, where it saw the parcel go in.
    expect(await agent.enterCode(await pickupPin(parcel.id), 'keypad')).toEqual({ opened: 'A2' });
    f.cycle('A2');
    await expect.poll(async () => (await f.read(parcel.id)).status, { message: 'the pickup to reach the server' }).toBe('picked_up');
  });

  it('on a pickup leaves the parcel where it is and raises an alarm', async () => {
    const { hardware, agent } = f.locker;
    const parcel = await f.book('JAM-2');
    // A1 is out of service, A2 free again after the pickup: the smallest free fitting one.
    expect(parcel.compartmentId).toBe('A2');
    await f.synced();
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: 'A2' });
    f.cycle('A2');
    await expect.poll(async () => (await f.read(parcel.id)).status, { message: 'the deposit' }).toBe('in_locker');

    hardware.jam('A2');
    const before = hardware.pulses('A2');
    expect(await agent.enterCode(await pickupPin(parcel.id), 'keypad')).toEqual({ opened: 'A2' });
    await pulsesUntil('A2', before + 3);
    clock.advance(DOOR_OPEN_TIMEOUT_MS);
    await expect.poll(async () => (await alarms('kind=lock_jam')).some((a) => a.compartmentId === 'A2'), { message: 'the jam alarm' }).toBe(true);

    expect(hardware.isReleased('B1')).toBe(false);
    const read = await f.read(parcel.id);
    expect(read.status).toBe('in_locker');
    expect(read.compartmentId).toBe('A2');
    expect(read.history.some((h) => h.type === 'moved')).toBe(false);
    expect((await alarms('kind=lock_jam')).find((a) => a.compartmentId === 'A2')).toMatchObject({ parcelId: parcel.id, state: 'open' });
    expect((await f.view()).compartments.find((c) => c.id === 'A2')).toMatchObject({ inService: false, parcelId: parcel.id });
  });

  it('with no other compartment free, ends the session with an alarm and records the parcel nowhere', async () => {
    const { hardware, agent } = f.locker;
    const parcel = await f.book('JAM-3');
    expect(parcel.compartmentId).toBe('B1');
    await f.synced();
    hardware.jam('B1');
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: 'B1' });
    const before = hardware.pulses('B1');
    await pulsesUntil('B1', before + 2);
    clock.advance(DOOR_OPEN_TIMEOUT_MS);
    await expect.poll(async () => (await alarms('kind=session_aborted')).length > 0, { message: 'the aborted session alarm' }).toBe(true);
    expect((await alarms('kind=session_aborted'))[0]?.detail).toMatchObject({ reason: 'NO_COMPARTMENT_FOR_MOVE' });
    expect((await f.read(parcel.id)).status).toBe('booked');
  });
});
