/**
 * The decisions about remote opens and set_service commands (issue 17), as pure functions: the SQL shells
 * (remote-open.ts, remote-open-approval.ts, set-service.ts) load the counts, call these and store what they decide.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/**
 * Whether one more fits under `limit` in a sliding window, given the times of the most recent ones in it (newest
 * first, at most `limit` of them). When it does not, the wait is until the `limit`-th most recent leaves the window.
 */
export function windowVerdict(recent, limit, now, windowMs = MINUTE_MS) {
    const edge = recent[limit - 1];
    if (recent.length < limit || edge === undefined)
        return { ok: true };
    return { ok: false, retryAfterMs: Math.max(1, edge + windowMs - now) };
}
/**
 * Whether a principal may open a compartment of `lockerId`, given the lockers it opened in the last hour with the
 * time of its latest open in each. A locker already among them is always allowed (the cap is on spread, not on
 * repeats); a new one only while fewer than `limit` lockers are in the window. When refused, the wait is until
 * enough of them leave the window that one place is free.
 */
export function distinctLockersVerdict(lastOpenByLocker, lockerId, limit, now, windowMs = HOUR_MS) {
    if (lastOpenByLocker.has(lockerId) || lastOpenByLocker.size < limit)
        return { ok: true };
    const oldestFirst = [...lastOpenByLocker.values()].sort((a, b) => a - b);
    const freeing = oldestFirst[lastOpenByLocker.size - limit] ?? now;
    return { ok: false, retryAfterMs: Math.max(1, freeing + windowMs - now) };
}
/** An open for an offline locker waits in the queue; a principal may have at most `limit` waiting at once. */
export function queueVerdict(lockerOnline, queuedForOffline, limit) {
    return lockerOnline || queuedForOffline < limit;
}
/**
 * How an open goes out: an empty compartment at once; an occupied one (it holds or awaits a parcel) at once while
 * the requester has allowance left for the last 24 h, otherwise only after a second operator approves it.
 */
export function occupiedDecision(occupied, allowanceUsed, allowance) {
    if (!occupied)
        return 'send';
    return allowanceUsed < allowance ? 'send_on_allowance' : 'needs_approval';
}
/**
 * Whether `approver` may approve a request now: it must still wait for approval and not have expired, and the
 * approver must be another principal than the requester (another account; an admin may approve an operator's).
 */
export function approvalVerdict(request, approver, now) {
    if (request.state !== 'pending_approval')
        return { ok: false, code: 'REMOTE_OPEN_REQUEST_NOT_PENDING', expired: request.state === 'expired' };
    if (request.expires_at <= now)
        return { ok: false, code: 'REMOTE_OPEN_REQUEST_NOT_PENDING', expired: true };
    if (request.requested_by === approver)
        return { ok: false, code: 'REMOTE_OPEN_SELF_APPROVAL' };
    return { ok: true };
}
/**
 * How long an open may wait for its locker: what the request asks (at most `maxSec`), or the default command TTL
 * capped at `maxSec`. Null when the request asks for longer than allowed.
 */
export function openTtlSec(requested, defaultSec, maxSec) {
    if (requested === undefined)
        return Math.min(defaultSec, maxSec);
    return requested <= maxSec ? requested : null;
}
/** The key that makes one open burst alarm per principal (and one for the fleet): repeats count up on it. */
export function burstKey(s) {
    return s.scope === 'fleet' ? 'fleet' : `operator:${s.actor}`;
}
/** The scopes whose attempt counts in the window reached their threshold (the attempt just made included). */
export function burstsReached(counts, thresholds, actor) {
    const out = [];
    if (counts.operator >= thresholds.operator)
        out.push({ scope: 'operator', actor });
    if (counts.fleet >= thresholds.fleet)
        out.push({ scope: 'fleet' });
    return out;
}
//# sourceMappingURL=remote-open-rules.js.map