import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import type { TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
beforeAll(async () => {
  f = await startLockerFixture({ seed: 5 });
  ({ t, locker } = f);
});
afterAll(() => f.close());

const book = (reference: string) => f.book(reference);
const status = async (id: string) => (await f.read(id)).status;
const cycle = (id: string) => f.cycle(id);

describe('a locker whose network is cut (at a TCP proxy)', () => {
  it('takes the deposit and hands the parcel over offline; the server learns each once when it is back', async () => {
    const p = await book('CUT-1');
    await expect.poll(async () => (await locker.store.grantCount()) >= 2, { message: 'both grants on the locker' }).toBe(true);
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the agent to notice the cut' }).toBe(true);
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    cycle(p.compartmentId);
    await new Promise((r) => setTimeout(r, 300));
    expect(await status(p.id)).toBe('booked');
    expect(await locker.store.outboxSize()).toBeGreaterThan(0);

    locker.proxy.restore();
    await expect.poll(() => status(p.id), { timeout: 15_000, message: 'the deposit after reconnecting' }).toBe('in_locker');
    const code = await awaitPickupCode(t.api, p.id, 5000);

    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the second cut' }).toBe(true);
    expect(await locker.agent.enterCode(code!.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    cycle(p.compartmentId);
    locker.proxy.restore();
    await expect.poll(() => status(p.id), { timeout: 15_000, message: 'the pickup after reconnecting' }).toBe('picked_up');
    await expect.poll(() => locker.store.outboxSize(), { message: 'the outbox to drain' }).toBe(0);
    const v = await t.api.get<{ events: { received: number; lastSeq: number } }>(`/v1/lockers/${locker.id}`);
    expect(v.events).toEqual({ received: locker.tap.seqs.size, lastSeq: Math.max(...locker.tap.seqs) });
  }, 40_000);

  it('opens for a QR grant it never received, by its signature alone', async () => {
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the cut' }).toBe(true);
    const p = await book('CUT-QR');
    // The PIN is unknown to the locker (the booking never reached it), the QR carries the grant.
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
    expect(await locker.agent.enterCode(p.dropoff.qr, 'scanner')).toEqual({ opened: p.compartmentId });
    cycle(p.compartmentId);
    locker.proxy.restore();
    await expect.poll(() => status(p.id), { timeout: 15_000, message: 'the deposit' }).toBe('in_locker');
    const code = await awaitPickupCode(t.api, p.id, 5000);
    expect(await locker.agent.enterCode(code!.qr, 'scanner')).toEqual({ opened: p.compartmentId });
    cycle(p.compartmentId);
    await expect.poll(() => status(p.id), { timeout: 15_000, message: 'the pickup' }).toBe('picked_up');
  }, 40_000);

  it('refuses new codes when its outbox is full, still records the doors, and takes codes again once it drains', async () => {
    const small = await startSimLocker({
      api: t.api,
      name: 'Tiny outbox',
      location: { lat: 52.2, lon: 21 },
      compartments: [{ id: 'A1', size: 'S' }],
      dataDir: t.dir,
      clock: systemClock,
      random: seededRandom(6),
      outboxLimit: 3,
    });
    try {
      await expect.poll(() => small.agent.ready, { message: 'ready' }).toBe(true);
      small.proxy.cut();
      await expect.poll(() => !small.agent.sync.connected, { message: 'the cut' }).toBe(true);
      for (let i = 0; i < 3; i++) expect(await small.agent.enterCode('11111111', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
      expect(await small.store.outboxSize()).toBe(3);
      expect(await small.agent.enterCode('11111111', 'keypad')).toEqual({ refused: 'OUTBOX_FULL' });
      expect(await small.store.outboxSize()).toBe(3);
      // Nothing is dropped: a door forced open is still recorded beyond the limit.
      small.hardware.forceOpen('A1');
      await expect.poll(() => small.store.outboxSize(), { message: 'the forced-open event' }).toBe(4);
      small.hardware.closeDoor('A1');
      small.proxy.restore();
      await expect.poll(() => small.store.outboxSize(), { timeout: 15_000, message: 'the outbox to drain' }).toBe(0);
      expect(await small.agent.enterCode('11111111', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
      await expect.poll(() => small.store.outboxSize(), { message: 'the last refusal to be sent' }).toBe(0);
      const v = await t.api.get<{ events: { received: number } }>(`/v1/lockers/${small.id}`);
      expect(v.events.received).toBe(small.tap.seqs.size);
    } finally {
      await small.stop();
    }
  }, 30_000);
});
