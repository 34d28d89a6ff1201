import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import type { HistoryView } from '../../shared/api/history.js';
import type { NotificationView } from '../../shared/api/parcels.js';

const HOUR = 3_600_000;
const clock = new ShiftClock();
let f: LockerFixture;
/** A round hour a day ahead of real time, so that nothing else lands in it. */
const H0 = Math.floor((Date.now() + 24 * HOUR) / HOUR) * HOUR;
const at = (ms: number) => {
  clock.shiftMs += ms - clock.now();
};
/**
 * Before the clock jumps, every message to the locker is delivered: the locker learns the server's time from each,
 * and one sent before the jump but read after it would set its clock back by the jump (device/device-time.ts).
 */
const settle = async () => {
  await f.synced();
  await new Promise((r) => setTimeout(r, 300));
};
const history = (q: string) => f.t.api.get<HistoryView>(`/v1/history?${q}`);

beforeAll(async () => {
  f = await startLockerFixture({ clock, seed: 7, server: { lockerOfflineAlarmSec: 7 * 86_400 }, compartments: [{ id: 'A1', size: 'S' }, { id: 'A2', size: 'S' }, { id: 'B1', size: 'M' }] });
}, 30_000);
afterAll(() => f.close());

describe('per-hour history from the aggregates', () => {
  it('a booking, its deposit and its pickup each land in the hour they happened, per locker and fleet-wide', async () => {
    at(H0 + 10 * 60_000);
    const p = await f.book('HIST-1');
    await f.t.server.scheduler.runOnce();

    await settle();
    at(H0 + HOUR + 5 * 60_000);
    expect(await f.locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    f.cycle(p.compartmentId);
    await expect.poll(async () => (await f.read(p.id)).status).toBe('in_locker');

    await settle();
    at(H0 + 2 * HOUR + 30 * 60_000);
    const { notifications } = await f.t.api.get<{ notifications: NotificationView[] }>(`/v1/parcels/${p.id}/notifications`);
    const pin = notifications.find((n) => n.kind === 'pickup_code')!.code.pin;
    expect(await f.locker.agent.enterCode(pin, 'keypad')).toEqual({ opened: p.compartmentId });
    f.cycle(p.compartmentId);
    await expect.poll(async () => (await f.read(p.id)).status).toBe('picked_up');
    // The sampler takes an hour's first scheduler tick, and the server's own timer ticks every second: a slow
    // pickup (a loaded machine) let a tick sample hour 2 before it, with the compartment still in use. The
    // test's hour-2 sample is the one taken after the pickup.
    await f.t.server.ctx.db.deleteFrom('occupancy_samples').where('hour', '=', H0 + 2 * HOUR).execute();
    await f.t.server.scheduler.runOnce();

    for (const q of [`lockerId=${f.locker.id}&`, '']) {
      const h = await history(`${q}from=${H0}&to=${H0 + 3 * HOUR}`);
      expect(h.hours.map((x) => x.hour)).toEqual([H0, H0 + HOUR, H0 + 2 * HOUR]);
      expect(h.hours.map((x) => [x.bookings, x.deposits, x.pickups, x.expiries])).toEqual([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ]);
      // Occupancy sampled in hour 0 (one S in use) carries over hour 1 and is sampled again in hour 2 (none). The
      // compartment is freed when the locker reports the door cycle, which may land just after the parcel's status.
      await expect
        .poll(async () => {
          await f.t.server.scheduler.runOnce();
          return (await history(`${q}from=${H0}&to=${H0 + 3 * HOUR}`)).hours.map((x) => x.occupancy.S);
        })
        .toEqual([{ inUse: 1, total: 2 }, { inUse: 1, total: 2 }, { inUse: 0, total: 2 }]);
      expect(h.hours[0]!.occupancy.M).toEqual({ inUse: 0, total: 1 });
    }
  });

  it('reads a default range of the last 24 hours and refuses a reversed or too long one', async () => {
    const h = await history(`lockerId=${f.locker.id}`);
    expect(h.hours).toHaveLength(24);
    expect(h.to).toBe(Math.floor(clock.now() / HOUR) * HOUR + HOUR);
    await expect(history(`from=${H0}&to=${H0 - HOUR}`)).rejects.toMatchObject({ status: 400, code: 'HISTORY_RANGE_INVALID' });
    await expect(history(`from=${H0}&to=${H0 + 800 * HOUR}`)).rejects.toMatchObject({ status: 400, code: 'HISTORY_RANGE_INVALID' });
    await expect(history('lockerId=lk_nope')).rejects.toMatchObject({ status: 404, code: 'LOCKER_NOT_FOUND' });
  });
});
