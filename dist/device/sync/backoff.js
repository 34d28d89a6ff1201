/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * [0, min(cap, base · 2^n)). A fleet that lost its server at once comes back spread out, not in a spike.
 */
export function backoffDelay(attempt, random, baseMs = 1000, capMs = 60_000) {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
    return Math.floor(random() * ceiling);
}
/**
 * How long to wait for an event batch's ack after `misses` waits in a row ran out: the ack timeout doubled for
 * each miss, up to `capMs`, plus up to half of that again at random (never beyond the cap). A server that acks
 * late is not sent the same batch again and again (each copy is one more duplicate it must read and recognise),
 * and a fleet whose acks all came late at once does not resend in step.
 */
export function ackWaitMs(misses, random, baseMs, capMs) {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(misses, 30));
    return Math.min(capMs, Math.floor(ceiling + (random() * ceiling) / 2));
}
//# sourceMappingURL=backoff.js.map