/**
 * Delay before the attempt that follows `attemptsMade` failed attempts: `baseMs × 2^(attemptsMade-1)`, capped
 * at `maxMs`, with "equal jitter" (a uniform draw in the upper half), so endpoints that failed together do not
 * come back in lockstep, and a retry never comes sooner than half its nominal delay.
 */
export function retryDelayMs(policy, attemptsMade, random) {
    const exponent = Math.min(Math.max(attemptsMade - 1, 0), 30);
    const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
    return Math.round(nominal / 2 + random() * (nominal / 2));
}
/** After a failed attempt (the `attemptsMade`-th): dead once the attempts are used up, else the next due time. */
export function afterFailure(policy, attemptsMade, now, random) {
    if (attemptsMade >= policy.maxAttempts)
        return { state: 'dead' };
    return { state: 'pending', nextAttemptAt: now + retryDelayMs(policy, attemptsMade, random) };
}
//# sourceMappingURL=retry-policy.js.map