export const PARCEL_TRIGGERS = ['deposit', 'pickup', 'cancel', 'expire', 'collect'];
/**
 * The parcel state machine: booked → in_locker → picked_up; booked → cancelled; in_locker → expired →
 * returned. A pickup reported before its deposit (events arrive in any order) implies the deposit. The door
 * sensor's truth wins over a cancellation: a locker that took the parcel offline, before it learned of the
 * cancellation, moves it on (and the operator is told).
 */
const TRANSITIONS = {
    booked: { deposit: 'in_locker', pickup: 'picked_up', cancel: 'cancelled' },
    in_locker: { pickup: 'picked_up', expire: 'expired' },
    expired: { pickup: 'picked_up', collect: 'returned' },
    picked_up: {},
    returned: {},
    cancelled: { deposit: 'in_locker', pickup: 'picked_up' },
};
/** The status after `trigger`, or null when the trigger does not apply in `status`. */
export function nextStatus(status, trigger) {
    return TRANSITIONS[status][trigger] ?? null;
}
/** Statuses in which the parcel holds its compartment (reserved or filled). */
export function holdsCompartment(status) {
    return status === 'booked' || status === 'in_locker' || status === 'expired';
}
/** Statuses nothing moves out of (a cancelled parcel may still be reconciled by the door sensor's word). */
export function isFinal(status) {
    return status === 'picked_up' || status === 'returned';
}
/**
 * The window a deposit opens. A deposit recorded while the locker was offline (or before an outage that kept
 * its event from the server) is credited the part of that outage after the deposit.
 */
export function openWindow(depositedAt, windowMs, lastOutage) {
    const credit = lastOutage && depositedAt < lastOutage.to ? lastOutage.to - Math.max(depositedAt, lastOutage.from) : 0;
    return { deadline: depositedAt + windowMs + credit, pausedSince: null, pausedMs: credit, extensions: 0 };
}
/** The window stands still from `at`; null when it already does. */
export function pauseWindow(w, at) {
    if (w.pausedSince !== null)
        return null;
    return { ...w, pausedSince: at };
}
/** The window runs again at `at`, its end pushed by the time it stood still; null when it was not paused. */
export function resumeWindow(w, at) {
    if (w.pausedSince === null)
        return null;
    const paused = Math.max(0, at - w.pausedSince);
    return { ...w, deadline: w.deadline + paused, pausedMs: w.pausedMs + paused, pausedSince: null };
}
/** One extension through the API: only for a parcel in the locker, at most `maxExtensions` times. */
export function extendWindow(status, w, rules) {
    if (status !== 'in_locker' || w === null)
        return { ok: false, code: 'PARCEL_NOT_IN_LOCKER' };
    if (w.extensions >= rules.maxExtensions)
        return { ok: false, code: 'EXTENSION_LIMIT_REACHED' };
    return { ok: true, window: { ...w, deadline: w.deadline + rules.extensionMs, extensions: w.extensions + 1 } };
}
/** The window ended: it runs (not paused) and its end has come. */
export function windowEnded(w, now) {
    return w.pausedSince === null && now >= w.deadline;
}
/**
 * The reminder lead times (seconds) due now and not sent yet. A lead is due once the deadline is that close, while
 * the window runs and has not ended; a lead longer than the whole window (from the deposit) is never sent.
 */
export function remindersDue(w, depositedAt, leadsSec, sent, now) {
    if (w.pausedSince !== null || now >= w.deadline)
        return [];
    return leadsSec.filter((lead) => !sent.has(lead) && w.deadline - lead * 1000 <= now && w.deadline - lead * 1000 > depositedAt);
}
//# sourceMappingURL=lifecycle.js.map