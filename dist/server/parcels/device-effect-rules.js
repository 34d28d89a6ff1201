import { nextStatus } from './lifecycle.js';
/** Device events that are alarms for the operator, and the alarm kind each raises. */
const ALARM_EVENTS = {
    'lock.jammed': 'lock_jam',
    'door.forced_open': 'forced_open',
    'door.left_open': 'door_left_open',
    'session.aborted': 'session_aborted',
    'keypad.locked': 'repeated_wrong_codes',
};
/** Event types with an effect besides alarms; the rest (doors opened and closed, wrong codes) are only recorded. */
const EFFECT_TYPES = new Set(['code.accepted', 'parcel.deposited', 'parcel.moved', 'parcel.picked_up', 'command.succeeded', 'command.failed', 'command.expired']);
/** False for events that only need recording: most of a locker's day, so the hot path skips the effects. */
export function hasDomainEffect(event) {
    return EFFECT_TYPES.has(event.type) || event.reason === 'DOOR_CYCLE_ASSUMED' || ALARM_EVENTS[event.type] !== undefined;
}
/** The alarm an event raises, if any: a fault event, or a door cycle the locker assumed (sensor doubt). */
export function alarmOf(event) {
    const kind = event.reason === 'DOOR_CYCLE_ASSUMED' ? 'door_cycle_assumed' : ALARM_EVENTS[event.type];
    if (!kind)
        return null;
    return { kind, detail: { seq: event.seq, ...(event.reason ? { reason: event.reason } : {}) } };
}
/** A compartment whose lock does not release takes no new bookings (the locker refuses it anyway). */
export function compartmentOutOfService(event) {
    return event.type === 'lock.jammed' && event.compartmentId ? event.compartmentId : null;
}
/**
 * How an accepted code is recorded: a batch code (entered once per parcel) is counted and stays live until it
 * expires; any other grant is marked used. Null when the event names no grant.
 */
export function grantUseKind(event) {
    if (event.type !== 'code.accepted' || !event.jti)
        return null;
    return event.action === 'deposit_batch' ? 'batch' : 'single';
}
/**
 * A single-use grant after its use was counted: unknown to the server (an anomaly), used for the first time, or
 * reported used again (a reuse: recorded on the parcel and raised as an alarm).
 */
export function grantUseVerdict(grant) {
    if (!grant)
        return 'unknown';
    return grant.uses > 1 ? 'reused' : 'first';
}
/** The move a parcel event reports; `grantAction` is the action of the grant that opened the door, if known. */
export function parcelMoveOf(event, grantAction) {
    if (event.type === 'parcel.deposited')
        return 'deposit';
    // Taken out with the carrier's collection code, the parcel goes back to the sender.
    if (event.type === 'parcel.picked_up')
        return grantAction === 'collect' ? 'collect' : 'pickup';
    return null;
}
/** What a deposit, pickup or collection event does to the parcel it names (`parcel` undefined: not held by this locker). */
export function decideParcelMove(parcel, event, move) {
    if (!parcel)
        return { kind: 'anomalous' };
    const wasCancelled = parcel.status === 'cancelled';
    let status = parcel.status;
    let inferredDeposit = null;
    if (move === 'pickup' && (status === 'booked' || status === 'cancelled')) {
        status = 'in_locker';
        inferredDeposit = { type: 'deposited', status, detail: { inferred: true } };
    }
    const next = nextStatus(status, move);
    if (!next)
        return { kind: 'ignored', inferredDeposit, history: { type: `${event.type}.ignored`, status, detail: { from: parcel.status } } };
    const detail = { compartmentId: event.compartmentId, ...(wasCancelled ? { reconciled: true } : {}), ...(event.reason ? { reason: event.reason } : {}) };
    if (move === 'deposit') {
        return { kind: 'moved', inferredDeposit, reconcile: wasCancelled, next, history: { type: 'deposited', status: next, detail }, webhook: 'parcel.deposited', detail, compartment: 'in' };
    }
    const collected = move === 'collect';
    return {
        kind: 'moved',
        inferredDeposit,
        reconcile: wasCancelled,
        next,
        history: { type: collected ? 'collected' : 'picked_up', status: next, detail },
        webhook: collected ? 'parcel.returned' : 'parcel.picked_up',
        detail,
        compartment: 'out',
    };
}
/**
 * The locker put the parcel into another compartment (`fromCompartmentId` → `compartmentId`). The door sensors are
 * the truth, so the server follows; null when the event cannot be followed (no such parcel here, a compartment
 * missing): an anomaly.
 */
export function decideCompartmentMove(parcel, event) {
    const to = event.compartmentId;
    const from = event.fromCompartmentId;
    if (!parcel || !to || !from)
        return null;
    return { from, to, detail: { from, to, ...(event.reason ? { reason: event.reason } : {}) } };
}
/**
 * The parcel was not in `from` when the move was applied. Already in `to` (a replay): nothing to do. Anywhere else:
 * the locker and the server disagree, recorded (an anomaly), nothing moved.
 */
export function refusedMove(parcel, move) {
    if (parcel.compartmentId === move.to)
        return null;
    return { type: 'parcel.moved.ignored', status: parcel.status, detail: { ...move.detail, compartmentId: parcel.compartmentId } };
}
/** The device's word on a command is final (it is the one that drove the lock or did not). */
export function commandOutcome(event) {
    if (!event.commandId)
        return null;
    const state = event.type === 'command.succeeded' ? 'succeeded' : event.type === 'command.failed' ? 'failed' : event.type === 'command.expired' ? 'expired' : null;
    if (!state)
        return null;
    return { commandId: event.commandId, state, result: event.reason ?? null };
}
//# sourceMappingURL=device-effect-rules.js.map