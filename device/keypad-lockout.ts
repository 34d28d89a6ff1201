/**
 * Keypad lockout: the locker's answer to someone guessing PINs. Pure rules, no I/O: the agent keeps the state in
 * its store (it survives reboots) and reads time from its own estimate (`agent.now()`), never from the wall.
 *
 * Rules (reference values in DEFAULT_LOCKOUT_RULES, stated in docs/protocol.md, "Keypad lockout"):
 * - A *failure* is a keypad entry that is not a PIN of the configured length or matches no stored grant.
 * - Failures are counted per locker. The `lockAfterFailures`-th failure in a row locks the keypad for
 *   `firstLockMs`; every further failure locks it again for twice as long as the one before, up to `maxLockMs`.
 * - While locked, keypad input is refused (KEYPAD_LOCKED) without being checked, and does not count.
 * - The count starts again from zero after a code that opens a door (keypad or scanner), or when a failure comes
 *   `quietResetMs` or more after the previous one.
 * - The scanner is never locked: a QR grant is checked by signature, which cannot be guessed.
 */
export interface LockoutRules {
  /** The failure with this number (counting from 1) starts the first lockout. */
  lockAfterFailures: number;
  firstLockMs: number;
  maxLockMs: number;
  /** A failure this long after the previous one counts as the first again. */
  quietResetMs: number;
}

export const DEFAULT_LOCKOUT_RULES: Readonly<LockoutRules> = Object.freeze({
  lockAfterFailures: 5,
  firstLockMs: 30_000,
  maxLockMs: 15 * 60_000,
  quietResetMs: 60 * 60_000,
});

export interface LockoutState {
  /** Failures in the current run. */
  failures: number;
  /** When the last one happened (device time estimate, ms); 0 when none. */
  lastFailureAt: number;
  /** The keypad takes input again from this time on; 0 when it is not locked. */
  lockedUntil: number;
}

export const NO_FAILURES: Readonly<LockoutState> = Object.freeze({ failures: 0, lastFailureAt: 0, lockedUntil: 0 });

/** How long the `failures`-th failure in a row locks the keypad (0: not at all). */
export function lockDuration(failures: number, rules: LockoutRules = DEFAULT_LOCKOUT_RULES): number {
  if (failures < rules.lockAfterFailures) return 0;
  const doublings = Math.min(failures - rules.lockAfterFailures, 30);
  return Math.min(rules.firstLockMs * 2 ** doublings, rules.maxLockMs);
}

/**
 * Milliseconds the keypad stays locked from `now` (0: it takes input). Never more than `maxLockMs`, even when the
 * stored end lies further ahead (the time estimate was corrected backwards by the server since the lock began).
 */
export function lockedFor(state: LockoutState, now: number, rules: LockoutRules = DEFAULT_LOCKOUT_RULES): number {
  return Math.max(0, Math.min(state.lockedUntil - now, rules.maxLockMs));
}

export interface FailureOutcome {
  state: LockoutState;
  /** > 0 when this failure locks the keypad, for that long. */
  lockMs: number;
}

/** The state after a failure at `now` (the keypad was not locked). */
export function recordFailure(state: LockoutState, now: number, rules: LockoutRules = DEFAULT_LOCKOUT_RULES): FailureOutcome {
  const quiet = state.failures > 0 && now - state.lastFailureAt >= rules.quietResetMs;
  const failures = (quiet ? 0 : state.failures) + 1;
  const lockMs = lockDuration(failures, rules);
  return { state: { failures, lastFailureAt: now, lockedUntil: lockMs > 0 ? now + lockMs : 0 }, lockMs };
}

/** True when the state is the one a success leaves (nothing to write). */
export function isClear(state: LockoutState): boolean {
  return state.failures === 0 && state.lockedUntil === 0;
}
