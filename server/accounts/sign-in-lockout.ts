/**
 * The lockout rule, apart from SQL: failed sign-ins are counted per key (an account name, a client address) over a
 * period; a key with as many failures as its limit is locked until the period after the last one ends. Unknown names
 * are counted and locked exactly like existing ones, so the answers never tell whether an account exists.
 */

export interface FailureCount {
  failures: number;
  firstAt: number;
  lockedUntil: number | null;
}

export interface LockoutPolicy {
  maxFailures: number;
  periodMs: number;
}

/** When the key is locked at `now`, the milliseconds left; 0 when it is not. */
export function lockedFor(count: FailureCount | undefined, now: number): number {
  if (!count || count.lockedUntil === null) return 0;
  return Math.max(0, count.lockedUntil - now);
}

/** The count after one more failure at `now` (a period that ended starts afresh). */
export function afterFailure(count: FailureCount | undefined, now: number, policy: LockoutPolicy): FailureCount {
  const fresh = !count || now - count.firstAt >= policy.periodMs || (count.lockedUntil !== null && count.lockedUntil <= now);
  const failures = fresh ? 1 : count.failures + 1;
  const firstAt = fresh ? now : count.firstAt;
  return { failures, firstAt, lockedUntil: failures >= policy.maxFailures ? now + policy.periodMs : null };
}

/** Seconds for a retry-after header (at least 1). */
export function retryAfterSec(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
