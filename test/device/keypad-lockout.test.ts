import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCKOUT_RULES,
  NO_FAILURES,
  lockDuration,
  lockedFor,
  recordFailure,
  type LockoutState,
} from '../../device/keypad-lockout.js';
import { DeviceStore } from '../../device/store/device-store.js';

const T = Date.UTC(2026, 0, 1);
const SEC = 1000;

/** `n` failures one second apart from `state`, each after any lock has ended. */
function fail(n: number, from: LockoutState = NO_FAILURES, start = T) {
  let state = from;
  let now = start;
  const locks: number[] = [];
  for (let i = 0; i < n; i++) {
    now = Math.max(now + SEC, state.lockedUntil);
    const r = recordFailure(state, now);
    state = r.state;
    locks.push(r.lockMs);
  }
  return { state, locks, now };
}

describe('keypad lockout rules (pure)', () => {
  it('lets four wrong codes through, locks for 30 s at the fifth, then doubles per failure up to 15 minutes', () => {
    const { locks } = fail(12);
    expect(locks).toEqual([0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900].map((s) => s * SEC));
    expect(DEFAULT_LOCKOUT_RULES).toEqual({ lockAfterFailures: 5, firstLockMs: 30 * SEC, maxLockMs: 900 * SEC, quietResetMs: 3600 * SEC });
  });

  it('never overflows, however long the run', () => {
    expect(lockDuration(1_000_000)).toBe(900 * SEC);
    expect(lockDuration(0)).toBe(0);
  });

  it('is locked until the stated time, and never longer than the cap from now', () => {
    const { state, now } = fail(5);
    expect(state).toEqual({ failures: 5, lastFailureAt: now, lockedUntil: now + 30 * SEC });
    expect(lockedFor(state, now)).toBe(30 * SEC);
    expect(lockedFor(state, now + 29_999)).toBe(1);
    expect(lockedFor(state, now + 30 * SEC)).toBe(0);
    // The time estimate was corrected backwards by a day after the lock began: still at most the cap.
    expect(lockedFor(state, now - 24 * 3600 * SEC)).toBe(900 * SEC);
  });

  it('starts counting from zero when a failure comes an hour or more after the previous one', () => {
    const four = fail(4);
    expect(recordFailure(four.state, four.now + 3600 * SEC - 1).state.failures).toBe(5);
    const fresh = recordFailure(four.state, four.now + 3600 * SEC);
    expect(fresh).toEqual({ state: { failures: 1, lastFailureAt: four.now + 3600 * SEC, lockedUntil: 0 }, lockMs: 0 });
  });

  it('a guesser who waits out the hour still gets at most five guesses an hour; one who keeps going, one per 15 minutes', () => {
    // Waiting: 5 guesses, then an hour of silence, then 5 again.
    const first = fail(5);
    const second = fail(5, first.state, first.now + 3600 * SEC);
    expect(second.locks).toEqual([0, 0, 0, 0, 30 * SEC]);
    // Keeping going: after ten failures every guess costs the 15-minute cap.
    const long = fail(20);
    expect(long.locks.slice(9).every((ms) => ms === 900 * SEC)).toBe(true);
  });
});

describe('keypad lockout in the device store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-lockout-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with no failures and keeps the state across a reopen (a reboot)', async () => {
    const file = path.join(dir, 'd.sqlite');
    let store = await DeviceStore.open(file, () => Math.random().toString(36).slice(2));
    expect(await store.keypadLockout()).toEqual(NO_FAILURES);
    const locked = fail(5).state;
    await store.db.transaction().execute((trx) => store.setKeypadLockout(trx, locked));
    await store.close();
    store = await DeviceStore.open(file, () => Math.random().toString(36).slice(2));
    expect(await store.keypadLockout()).toEqual(locked);
    await store.db.transaction().execute((trx) => store.setKeypadLockout(trx, NO_FAILURES));
    expect(await store.keypadLockout()).toEqual(NO_FAILURES);
    await store.close();
  });

  it('writes the state with the events of the attempt, in one transaction: both or neither', async () => {
    const store = await DeviceStore.open(path.join(dir, 'd.sqlite'), () => Math.random().toString(36).slice(2));
    const one = recordFailure(NO_FAILURES, T).state;
    await expect(
      store.record([{ type: 'code.rejected', reason: 'UNKNOWN_CODE', via: 'keypad' }], { bootId: 'b', now: T }, async (trx) => {
        await store.setKeypadLockout(trx, one);
        throw new Error('power cut');
      }),
    ).rejects.toThrow('power cut');
    expect(await store.keypadLockout()).toEqual(NO_FAILURES);
    expect(await store.outboxSize()).toBe(0);
    await store.record([{ type: 'code.rejected', reason: 'UNKNOWN_CODE', via: 'keypad' }], { bootId: 'b', now: T }, (trx) => store.setKeypadLockout(trx, one));
    expect(await store.keypadLockout()).toEqual(one);
    expect(await store.outboxSize()).toBe(1);
    await store.close();
  });
});
