export const DEFAULT_LOCKOUT_RULES = Object.freeze({
    lockAfterFailures: 5,
    firstLockMs: 30_000,
    maxLockMs: 15 * 60_000,
    quietResetMs: 60 * 60_000,
});
export const NO_FAILURES = Object.freeze({ failures: 0, lastFailureAt: 0, lockedUntil: 0 });
/** How long the `failures`-th failure in a row locks the keypad (0: not at all). */
export function lockDuration(failures, rules = DEFAULT_LOCKOUT_RULES) {
    if (failures < rules.lockAfterFailures)
        return 0;
    const doublings = Math.min(failures - rules.lockAfterFailures, 30);
    return Math.min(rules.firstLockMs * 2 ** doublings, rules.maxLockMs);
}
/**
 * Milliseconds the keypad stays locked from `now` (0: it takes input). Never more than `maxLockMs`, even when the
 * stored end lies further ahead (the time estimate was corrected backwards by the server since the lock began).
 */
export function lockedFor(state, now, rules = DEFAULT_LOCKOUT_RULES) {
    return Math.max(0, Math.min(state.lockedUntil - now, rules.maxLockMs));
}
/** The state after a failure at `now` (the keypad was not locked). */
export function recordFailure(state, now, rules = DEFAULT_LOCKOUT_RULES) {
    const quiet = state.failures > 0 && now - state.lastFailureAt >= rules.quietResetMs;
    const failures = (quiet ? 0 : state.failures) + 1;
    const lockMs = lockDuration(failures, rules);
    return { state: { failures, lastFailureAt: now, lockedUntil: lockMs > 0 ? now + lockMs : 0 }, lockMs };
}
/** True when the state is the one a success leaves (nothing to write). */
export function isClear(state) {
    return state.failures === 0 && state.lockedUntil === 0;
}
//# sourceMappingURL=keypad-lockout.js.map