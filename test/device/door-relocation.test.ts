import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import type { GrantClaims } from '../../shared/grants.js';
import { DoorController } from '../../device/door-controller.js';
import { DeviceStore } from '../../device/store/device-store.js';
import { SimulatedLocker } from '../../simulator/simulated-locker.js';

const COMPARTMENTS = [
  { id: 'A1', size: 'S' as const },
  { id: 'B1', size: 'M' as const },
  { id: 'C1', size: 'L' as const },
];
const NOW = Date.UTC(2026, 0, 5);

let dir: string;
let store: DeviceStore;
let hardware: SimulatedLocker;
let doors: DoorController;
let n = 0;

/** A door controller on a real store file and simulated hardware, run one task at a time like the agent does. */
async function start(): Promise<void> {
  store = await DeviceStore.open(path.join(dir, 'd.sqlite'), () => `e${++n}`);
  await store.ensureCompartments(COMPARTMENTS);
  hardware = new SimulatedLocker(COMPARTMENTS);
  let queue: Promise<unknown> = Promise.resolve();
  const clock = new ManualClock(NOW);
  doors = new DoorController({
    store,
    hardware,
    clock,
    record: async (events, alsoDo) => void (await store.record(events, { bootId: 'boot', now: clock.now() }, alsoDo)),
    serial: <T>(fn: () => Promise<T>) => {
      const run = queue.then(fn, fn);
      queue = run.catch(() => undefined);
      return run;
    },
    background: (p) => void p.catch(() => undefined),
    doorOpenTimeoutMs: () => 30_000,
    maxPulses: () => 2,
    now: () => clock.now(),
    doorLeftOpenMs: 120_000,
    display: () => undefined,
  });
  hardware.onDoor((id, state) => doors.door(id, state));
  await doors.restore();
}

const types = async () => (await store.pending(100)).map((e) => (e.type === 'parcel.moved' ? `${e.type} ${e.fromCompartmentId}->${e.compartmentId} ${e.reason}` : `${e.type} ${e.compartmentId ?? ''}`.trim()));
const deposit = { jti: 'j1', action: 'deposit' as const, parcelId: 'p1' };

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-doors-'));
  await start();
});
afterEach(async () => {
  doors.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a deposit that does not fit (real store, simulated hardware)', () => {
  it('records nothing in the first compartment and deposits into the next larger one, with the move stored', async () => {
    await doors.unlock('A1', deposit);
    hardware.openDoor('A1');
    await expect.poll(async () => (await types()).includes('door.opened A1'), { message: 'the door to open' }).toBe(true);
    expect(await doors.doesNotFit()).toBe('A1');
    hardware.closeDoor('A1');
    await expect.poll(() => hardware.isReleased('B1'), { message: 'B1 to open' }).toBe(true);
    hardware.openDoor('B1');
    hardware.closeDoor('B1');
    await expect.poll(async () => (await types()).includes('parcel.deposited B1'), { message: 'the deposit' }).toBe(true);
    expect(await types()).toEqual(['door.opened A1', 'door.closed A1', 'parcel.moved A1->B1 DOES_NOT_FIT', 'door.opened B1', 'door.closed B1', 'parcel.deposited B1']);
    expect((await store.compartment('A1'))?.parcel_id).toBeNull();
    expect((await store.compartment('B1'))?.parcel_id).toBe('p1');
    expect(await store.movedFrom('p1', 'A1')).toBe(true);
  });

  it('skips a larger compartment another parcel\'s live drop-off code names', async () => {
    const claims: GrantClaims = { iss: 'lockstep', aud: 'lk', sub: 'p2', jti: 'j2', act: 'deposit', cmp: 'B1', ph: 'h'.repeat(43), iat: 0, nbf: 0, exp: NOW / 1000 + 3600 };
    await store.applyDesired({ version: 1, replaceAll: false, add: [{ token: 't', claims }], revoke: [], now: NOW });
    await doors.unlock('A1', deposit);
    hardware.openDoor('A1');
    await expect.poll(async () => (await types()).includes('door.opened A1'), { message: 'the door to open' }).toBe(true);
    await doors.doesNotFit();
    hardware.closeDoor('A1');
    await expect.poll(() => hardware.isReleased('C1'), { message: 'C1 to open' }).toBe(true);
    expect(hardware.isReleased('B1')).toBe(false);
  });

  it('after a restart with the door closed on a misfit, moves the parcel on instead of counting a deposit', async () => {
    await doors.unlock('A1', deposit);
    hardware.openDoor('A1');
    await expect.poll(async () => (await types()).includes('door.opened A1'), { message: 'the door to open' }).toBe(true);
    await doors.doesNotFit();
    expect(JSON.parse((await store.compartment('A1'))?.session ?? '{}')).toEqual({ ...deposit, misfit: true, stage: 'open' });
    // Power cut: the agent is gone while the courier shuts the door (the new hardware reads every door closed).
    doors.stop();
    await store.close();
    await start();
    await expect.poll(() => hardware.isReleased('B1'), { message: 'B1 to open after the restart' }).toBe(true);
    const all = await types();
    expect(all).toContain('parcel.moved A1->B1 DOES_NOT_FIT');
    expect(all).not.toContain('parcel.deposited A1');
    expect((await store.compartment('A1'))?.parcel_id).toBeNull();
  });
});
