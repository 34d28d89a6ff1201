import { afterEach, describe, expect, it } from 'vitest';
import type { ParcelView } from '../../shared/api/parcels.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { ShiftClock, SkewedClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
const HOUR = 3600_000;

let t: TestServer | undefined;
let locker: InProcessLocker | undefined;
afterEach(async () => {
  await locker?.stop();
  await t?.close();
  locker = undefined;
  t = undefined;
});

async function setup(skewMs: number, overrides = {}) {
  const serverClock = new ShiftClock();
  const deviceClock = new SkewedClock(serverClock, skewMs);
  t = await startTestServer(overrides, serverClock);
  locker = await startSimLocker({
    api: t.api,
    name: 'Clock',
    location: { lat: 52.2, lon: 21 },
    compartments: [{ id: 'A1', size: 'S' }, { id: 'A2', size: 'S' }],
    dataDir: t.dir,
    clock: deviceClock,
    random: seededRandom(9),
  });
  const l = locker;
  await expect.poll(() => l.agent.ready, { message: 'configuration' }).toBe(true);
  return { server: t, locker: l, serverClock, deviceClock };
}

const book = (s: TestServer, lockerId: string, reference: string) =>
  s.api.post<Booked>('/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference });

describe('device clocks', () => {
  it.each([
    ['2 hours fast', 2 * HOUR],
    ['2 hours slow', -2 * HOUR],
  ])('a device clock %s still honours a fresh grant once it heard the server’s time', async (_name, skew) => {
    const { server, locker: l } = await setup(skew);
    const p = await book(server, l.id, 'SKEW');
    await expect.poll(async () => (await l.store.grantCount()) >= 2, { message: 'grants' }).toBe(true);
    // Without the server's time the grant would be outside its window by far more than the tolerance (300 s).
    expect(Math.abs(l.agent.now() - server.server.ctx.clock.now())).toBeLessThan(5000);
    expect(await l.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: 'A1' });
  });

  it('a clock that jumps backwards does not bring an expired grant back', async () => {
    const { server, locker: l, serverClock, deviceClock } = await setup(0, { depositWindowSec: 60 });
    const p = await book(server, l.id, 'EXPIRE');
    await expect.poll(async () => (await l.store.grantCount()) >= 2, { message: 'grants' }).toBe(true);
    // Ten minutes pass (for the server and the device): the drop-off grant has expired.
    serverClock.shiftMs += 10 * 60_000;
    expect(await l.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ refused: 'EXPIRED' });
    // The device's clock is reset to an hour earlier (a flat RTC battery, a bad NTP answer).
    deviceClock.skewMs = -HOUR;
    expect(await l.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ refused: 'EXPIRED' });
    expect(await l.agent.enterCode(p.dropoff.qr, 'scanner')).toEqual({ refused: 'EXPIRED' });
    // After a restart the persisted floor keeps it so (unit-tested in test/device/device-time.test.ts).
  });

  it('a used grant stays used whatever the clock does', async () => {
    const { server, locker: l, deviceClock } = await setup(0);
    const p = await book(server, l.id, 'USED');
    await expect.poll(async () => (await l.store.grantCount()) >= 2, { message: 'grants' }).toBe(true);
    expect(await l.agent.enterCode(p.dropoff.qr, 'scanner')).toEqual({ opened: 'A1' });
    l.hardware.openDoor('A1');
    l.hardware.closeDoor('A1');
    for (const skew of [-HOUR, -24 * HOUR, 30 * 24 * HOUR, 0]) {
      deviceClock.skewMs = skew;
      const outcome = await l.agent.enterCode(p.dropoff.qr, 'scanner');
      expect(outcome, `skew ${skew}`).not.toHaveProperty('opened');
    }
  });
});
