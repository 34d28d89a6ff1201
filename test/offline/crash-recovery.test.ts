import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { startProcessLocker, type SimLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
type ParcelRead = ParcelView & { history: { type: string; detail: Record<string, unknown> | null }[] };

let t: TestServer;
let locker: SimLocker;
beforeAll(async () => {
  t = await startTestServer();
  locker = await startProcessLocker({
    api: t.api,
    name: 'Crash',
    location: { lat: 52.2, lon: 21 },
    compartments: [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'A3', size: 'S' },
    ],
    dataDir: t.dir,
    clock: systemClock,
    random: seededRandom(3),
  });
  await vi.waitFor(() => expect(locker.ready(), 'the agent process to be ready').toBe(true), { timeout: 20_000, interval: 10 });
}, 30_000);
afterAll(async () => {
  await locker.stop();
  await t.close();
});

const hw = () => locker.hardware;
const book = (reference: string) => t.api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
const parcel = (id: string) => t.api.get<ParcelRead>(`/v1/parcels/${id}`);

async function grantsOnLocker(id: string) {
  // The agent reports outbox/lastSeq only; wait until the server saw the locker apply the booking's version.
  await expect.poll(async () => {
    const v = await t.api.get<LockerView>(`/v1/lockers/${locker.id}`);
    return v.reportedVersion >= v.desiredVersion;
  }, { message: `grants for ${id} on the locker` }).toBe(true);
}

/** Types a code and waits for the expected latch, as a person would. */
async function typeAndWait(pin: string): Promise<string | null> {
  const released = hw().waitForRelease(3000);
  hw().type(pin);
  return released;
}

async function converged(): Promise<void> {
  await expect.poll(async () => {
    const v = await t.api.get<LockerView>(`/v1/lockers/${locker.id}`);
    return (await locker.outboxSize()) === 0 && v.events.received === (await locker.lastSeq()) && v.events.lastSeq === (await locker.lastSeq());
  }, { timeout: 20_000, message: 'every recorded event committed' }).toBe(true);
}

async function restartAndWait(): Promise<void> {
  locker.restart?.();
  await expect.poll(() => locker.ready(), { timeout: 20_000, message: 'the agent to come back' }).toBe(true);
}

describe('kill -9 of the device process', () => {
  it('before a door cycle: the restarted agent takes the deposit, nothing lost', async () => {
    const p = await book('CRASH-BEFORE');
    await grantsOnLocker(p.id);
    await locker.crash?.();
    await restartAndWait();
    expect(await typeAndWait(p.dropoff.pin)).toBe(p.compartmentId);
    hw().openDoor(p.compartmentId);
    hw().closeDoor(p.compartmentId);
    await expect.poll(async () => (await parcel(p.id)).status, { message: 'the deposit' }).toBe('in_locker');
    await converged();
  }, 60_000);

  it('during a door cycle: the door closed while the agent was down still counts as the deposit, once', async () => {
    const p = await book('CRASH-DURING');
    await grantsOnLocker(p.id);
    expect(await typeAndWait(p.dropoff.pin)).toBe(p.compartmentId);
    hw().openDoor(p.compartmentId);
    // Let the agent see the door open, then cut its power with the door still open.
    await new Promise((r) => setTimeout(r, 300));
    await locker.crash?.();
    hw().closeDoor(p.compartmentId);
    await restartAndWait();
    await expect.poll(async () => (await parcel(p.id)).status, { message: 'the recovered deposit' }).toBe('in_locker');
    const read = await parcel(p.id);
    expect(read.history.find((h) => h.type === 'deposited')?.detail).toMatchObject({ reason: 'RECOVERED_AFTER_RESTART' });
    // The drop-off code was used: it never opens the door again.
    expect(await typeAndWait(p.dropoff.pin)).toBeNull();
    // And the recipient gets the parcel out.
    const code = await awaitPickupCode(t.api, p.id, 10_000);
    expect(await typeAndWait(code!.pin)).toBe(p.compartmentId);
    hw().openDoor(p.compartmentId);
    hw().closeDoor(p.compartmentId);
    await expect.poll(async () => (await parcel(p.id)).status, { message: 'the pickup' }).toBe('picked_up');
    await converged();
  }, 60_000);

  it('right after a door cycle: the events recorded before the kill reach the server after the restart', async () => {
    const p = await book('CRASH-AFTER');
    await grantsOnLocker(p.id);
    locker.proxy.cut();
    expect(await typeAndWait(p.dropoff.pin)).toBe(p.compartmentId);
    hw().openDoor(p.compartmentId);
    hw().closeDoor(p.compartmentId);
    await new Promise((r) => setTimeout(r, 300));
    await locker.crash?.();
    locker.proxy.restore();
    await restartAndWait();
    await expect.poll(async () => (await parcel(p.id)).status, { message: 'the deposit made before the kill' }).toBe('in_locker');
    await converged();
    expect(t.server.stats.grantReuse).toBe(0);
  }, 60_000);
});
