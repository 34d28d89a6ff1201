import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LockerAgent } from '../../device/agent.js';
import { NO_FAILURES } from '../../device/keypad-lockout.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
interface Alarm {
  kind: string;
  compartmentId: string | null;
  count: number;
  state: string;
}

let t: TestServer;
let clock: ShiftClock;
let locker: InProcessLocker;
/** The agent in charge: the first one, then the one started again on the same store. */
let agent: LockerAgent;
let restarted: LockerAgent | undefined;
let p1: Booked;
let p2: Booked;

beforeAll(async () => {
  // One clock for server and locker, shifted forward to let lockouts pass without waiting for them.
  clock = new ShiftClock();
  t = await startTestServer({}, clock);
  locker = await startSimLocker({
    api: t.api,
    name: 'Guessed at',
    location: { lat: 52.2, lon: 21 },
    compartments: ['A1', 'A2', 'A3'].map((id) => ({ id, size: 'S' as const })),
    dataDir: t.dir,
    clock,
    random: seededRandom(11),
  });
  agent = locker.agent;
  await vi.waitFor(() => expect(agent.ready, 'the locker configuration').toBe(true), { timeout: 10_000, interval: 10 });
  const book = (reference: string) => t.api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
  p1 = await book('GUESS-1');
  p2 = await book('GUESS-2');
  await vi.waitFor(async () => expect((await locker.store.grantCount()) >= 4, 'the grants on the locker').toBe(true), { timeout: 10_000, interval: 10 });
});
afterAll(async () => {
  await restarted?.stop();
  await locker.stop();
  await t.close();
});

/** A stranger's guesses: random 8-digit PINs (none of them one of the real ones). */
const guesser = seededRandom(99);
function guess(): string {
  for (;;) {
    const pin = String(Math.floor(guesser() * 1e8)).padStart(8, '0');
    if (pin !== p1.dropoff.pin && pin !== p2.dropoff.pin) return pin;
  }
}

describe('keypad lockout against a PIN guessing run, over real MQTT', () => {
  it('four wrong PINs are only refused; the fifth locks the keypad for 30 s; a locked keypad does not even check the right PIN', async () => {
    for (let i = 0; i < 5; i++) expect(await agent.enterCode(guess(), 'keypad'), `guess ${i + 1}`).toEqual({ refused: 'UNKNOWN_CODE' });
    const state = await locker.store.keypadLockout();
    expect(state.failures).toBe(5);
    expect(state.lockedUntil - state.lastFailureAt).toBe(30_000);
    expect(locker.hardware.displayed.at(-1)).toMatch(/Keypad locked for 30 s/);

    expect(await agent.enterCode(guess(), 'keypad')).toEqual({ refused: 'KEYPAD_LOCKED' });
    expect(await agent.enterCode(p1.dropoff.pin, 'keypad')).toEqual({ refused: 'KEYPAD_LOCKED' });
    expect(await agent.enterCode('12', 'keypad')).toEqual({ refused: 'KEYPAD_LOCKED' });
    expect(locker.hardware.isReleased(p1.compartmentId)).toBe(false);
    // Refusals while locked do not count (nor lengthen the lock).
    expect(await locker.store.keypadLockout()).toEqual(state);
  });

  it('the count and the lock survive a restart of the agent on the same store', async () => {
    await agent.stop();
    restarted = new LockerAgent({
      lockerId: locker.id,
      ...locker.credentials,
      hardware: locker.hardware,
      store: locker.store,
      clock,
      random: seededRandom(12),
      ackTimeoutMs: 2000,
    });
    agent = restarted;
    await agent.start();
    expect(agent.ready).toBe(true);
    expect(await agent.enterCode(p1.dropoff.pin, 'keypad')).toEqual({ refused: 'KEYPAD_LOCKED' });

    // 30 s later the keypad takes input again; the next wrong PIN locks it for twice as long.
    clock.shiftMs += 31_000;
    expect(await agent.enterCode(guess(), 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
    const state = await locker.store.keypadLockout();
    expect(state.failures).toBe(6);
    expect(state.lockedUntil - state.lastFailureAt).toBe(60_000);
    expect(await agent.enterCode(p1.dropoff.pin, 'keypad')).toEqual({ refused: 'KEYPAD_LOCKED' });
  });

  it('a QR code still opens while the keypad is locked, and a code that opens ends the run', async () => {
    expect(await agent.enterCode(p2.dropoff.qr, 'scanner')).toEqual({ opened: p2.compartmentId });
    expect(locker.hardware.openDoor(p2.compartmentId)).toBe(true);
    locker.hardware.closeDoor(p2.compartmentId);
    expect(await locker.store.keypadLockout()).toEqual(NO_FAILURES);
    expect(await agent.enterCode(p1.dropoff.pin, 'keypad')).toEqual({ opened: p1.compartmentId });
    expect(locker.hardware.openDoor(p1.compartmentId)).toBe(true);
    locker.hardware.closeDoor(p1.compartmentId);
  });

  it('the server raises a repeated_wrong_codes alarm for the operator, counted up per lockout, and keeps every refusal', async () => {
    await expect.poll(() => locker.store.outboxSize(), { timeout: 15_000, message: 'the outbox to drain' }).toBe(0);
    const { items: alarms } = await t.api.get<{ items: Alarm[] }>(`/v1/alarms?lockerId=${locker.id}`);
    const alarm = alarms.find((a) => a.kind === 'repeated_wrong_codes');
    expect(alarm).toMatchObject({ compartmentId: null, count: 2, state: 'open' });

    const events = await t.server.ctx.db.selectFrom('device_events').select(['type', 'body']).where('locker_id', '=', locker.id).orderBy('seq').execute();
    const locked = events.filter((e) => e.type === 'keypad.locked').map((e) => JSON.parse(e.body) as Record<string, unknown>);
    expect(locked.map((e) => [e.failures, e.via])).toEqual([
      [5, 'keypad'],
      [6, 'keypad'],
    ]);
    for (const e of locked) expect(e.lockedUntil).toEqual(expect.any(Number));
    const reasons = events.filter((e) => e.type === 'code.rejected').map((e) => (JSON.parse(e.body) as { reason: string }).reason);
    expect(reasons.filter((r) => r === 'UNKNOWN_CODE')).toHaveLength(6);
    expect(reasons.filter((r) => r === 'KEYPAD_LOCKED')).toHaveLength(5);
    expect((await t.api.get<ParcelView>(`/v1/parcels/${p1.id}`)).status).toBe('in_locker');
  });
});
