/**
 * What a device event means for the domain, as pure functions: the rows the server loaded go in as plain data,
 * a decision saying what to write comes out. No I/O; server/parcels/device-effects.ts loads, calls these, stores.
 * Events arrive in any order and more than once per `(lockerId, seq)` is filtered before; each rule decides from
 * the state it is given. Unit tests: test/server/device-effect-rules.test.ts.
 */
import type { DeviceEvent } from '../../shared/messages.js';
import type { ParcelStatus } from '../../shared/api/parcels.js';
import { nextStatus } from './lifecycle.js';

/** Device events that are alarms for the operator, and the alarm kind each raises. */
const ALARM_EVENTS: Partial<Record<DeviceEvent['type'], string>> = {
  'lock.jammed': 'lock_jam',
  'door.forced_open': 'forced_open',
  'door.left_open': 'door_left_open',
  'session.aborted': 'session_aborted',
  'keypad.locked': 'repeated_wrong_codes',
  // lock boards (issue 15); `hardware.fault` is per board, see boardAlarm
  'door.sensor_suspect': 'door_sensor_suspect',
};

/** Event types with an effect besides alarms; the rest (doors opened and closed, wrong codes) are only recorded. */
const EFFECT_TYPES = new Set<DeviceEvent['type']>(['code.accepted', 'parcel.deposited', 'parcel.moved', 'parcel.picked_up', 'command.succeeded', 'command.failed', 'command.expired', 'hardware.fault', 'hardware.recovered']);

/** False for events that only need recording: most of a locker's day, so the hot path skips the effects. */
export function hasDomainEffect(event: DeviceEvent): boolean {
  return EFFECT_TYPES.has(event.type) || event.reason === 'DOOR_CYCLE_ASSUMED' || ALARM_EVENTS[event.type] !== undefined;
}

/** The alarm an event raises, if any: a fault event, or a door cycle the locker assumed (sensor doubt). */
export function alarmOf(event: DeviceEvent): { kind: string; detail: Record<string, unknown> } | null {
  const kind = event.reason === 'DOOR_CYCLE_ASSUMED' ? 'door_cycle_assumed' : ALARM_EVENTS[event.type];
  if (!kind) return null;
  return { kind, detail: { seq: event.seq, ...(event.reason ? { reason: event.reason } : {}) } };
}

/** A compartment whose lock does not release takes no new bookings (the locker refuses it anyway). */
export function compartmentOutOfService(event: DeviceEvent): string | null {
  return event.type === 'lock.jammed' && event.compartmentId ? event.compartmentId : null;
}

/**
 * How an accepted code is recorded: a batch code (entered once per parcel) is counted and stays live until it
 * expires; any other grant is marked used. Null when the event names no grant.
 */
export function grantUseKind(event: DeviceEvent): 'batch' | 'single' | null {
  if (event.type !== 'code.accepted' || !event.jti) return null;
  return event.action === 'deposit_batch' ? 'batch' : 'single';
}

/**
 * A single-use grant after its use was counted: unknown to the server (an anomaly), used for the first time, or
 * reported used again (a reuse: recorded on the parcel and raised as an alarm).
 */
export function grantUseVerdict(grant: { uses: number } | undefined): 'unknown' | 'first' | 'reused' {
  if (!grant) return 'unknown';
  return grant.uses > 1 ? 'reused' : 'first';
}

/** What a parcel event does to the parcel: its deposit, or its removal (by the recipient, or by the carrier's collection code). */
export type ParcelMove = 'deposit' | 'pickup' | 'collect';

/** The move a parcel event reports; `grantAction` is the action of the grant that opened the door, if known. */
export function parcelMoveOf(event: DeviceEvent, grantAction: string | undefined): ParcelMove | null {
  if (event.type === 'parcel.deposited') return 'deposit';
  // Taken out with the carrier's collection code, the parcel goes back to the sender.
  if (event.type === 'parcel.picked_up') return grantAction === 'collect' ? 'collect' : 'pickup';
  return null;
}

/** The parcel as the rules need it. */
export interface ParcelFacts {
  id: string;
  status: ParcelStatus;
  compartmentId: string;
}

/** A parcel history row the shell writes (source `device`, the event as reference). */
export interface HistoryDraft {
  type: string;
  status: ParcelStatus;
  detail: Record<string, unknown>;
}

export type ParcelDecision =
  /** The locker reports a parcel it does not hold (another locker's, or unknown): counted and logged. */
  | { kind: 'anomalous' }
  /** The move does not apply in the parcel's status: recorded in its history, nothing changes. */
  | { kind: 'ignored'; inferredDeposit: HistoryDraft | null; history: HistoryDraft }
  | {
      kind: 'moved';
      /** A pickup before its deposit event (reordered or lost): the pickup proves the deposit; stamped first. */
      inferredDeposit: HistoryDraft | null;
      /**
       * The parcel was cancelled, but the door sensor's truth wins: the locker took it before it learned of the
       * cancellation. Its release is called off, the operator is alarmed, it takes its compartment back, and (on a
       * deposit) the recipient gets a new pickup grant, the old one having been revoked.
       */
      reconcile: boolean;
      next: ParcelStatus;
      history: HistoryDraft;
      webhook: 'parcel.deposited' | 'parcel.picked_up' | 'parcel.returned';
      detail: Record<string, unknown>;
      /** `in`: the parcel is now in its compartment (the pickup code goes out); `out`: it left, the compartment is free. */
      compartment: 'in' | 'out';
    };

/** What a deposit, pickup or collection event does to the parcel it names (`parcel` undefined: not held by this locker). */
export function decideParcelMove(parcel: ParcelFacts | undefined, event: DeviceEvent, move: ParcelMove): ParcelDecision {
  if (!parcel) return { kind: 'anomalous' };
  const wasCancelled = parcel.status === 'cancelled';
  let status = parcel.status;
  let inferredDeposit: HistoryDraft | null = null;
  if (move === 'pickup' && (status === 'booked' || status === 'cancelled')) {
    status = 'in_locker';
    inferredDeposit = { type: 'deposited', status, detail: { inferred: true } };
  }
  const next = nextStatus(status, move);
  if (!next) return { kind: 'ignored', inferredDeposit, history: { type: `${event.type}.ignored`, status, detail: { from: parcel.status } } };
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

/** A `parcel.moved` the server can follow: from one compartment to another, both named. */
export interface CompartmentMove {
  from: string;
  to: string;
  detail: Record<string, unknown>;
}

/**
 * The locker put the parcel into another compartment (`fromCompartmentId` → `compartmentId`). The door sensors are
 * the truth, so the server follows; null when the event cannot be followed (no such parcel here, a compartment
 * missing): an anomaly.
 */
export function decideCompartmentMove(parcel: ParcelFacts | undefined, event: DeviceEvent): CompartmentMove | null {
  const to = event.compartmentId;
  const from = event.fromCompartmentId;
  if (!parcel || !to || !from) return null;
  return { from, to, detail: { from, to, ...(event.reason ? { reason: event.reason } : {}) } };
}

/**
 * The parcel was not in `from` when the move was applied. Already in `to` (a replay): nothing to do. Anywhere else:
 * the locker and the server disagree, recorded (an anomaly), nothing moved.
 */
export function refusedMove(parcel: ParcelFacts, move: CompartmentMove): HistoryDraft | null {
  if (parcel.compartmentId === move.to) return null;
  return { type: 'parcel.moved.ignored', status: parcel.status, detail: { ...move.detail, compartmentId: parcel.compartmentId } };
}

/** The locker names a compartment the server does not know at this locker: recorded (an anomaly), nothing moved. */
export function moveToUnknown(parcel: ParcelFacts, move: CompartmentMove): HistoryDraft {
  return { type: 'parcel.moved.ignored', status: parcel.status, detail: { ...move.detail, compartmentId: parcel.compartmentId, unknownCompartment: move.to } };
}

/** The device's word on a command is final (it is the one that drove the lock or did not). */
export function commandOutcome(event: DeviceEvent): { commandId: string; state: 'succeeded' | 'failed' | 'expired'; result: string | null } | null {
  if (!event.commandId) return null;
  const state = event.type === 'command.succeeded' ? 'succeeded' : event.type === 'command.failed' ? 'failed' : event.type === 'command.expired' ? 'expired' : null;
  if (!state) return null;
  return { commandId: event.commandId, state, result: event.reason ?? null };
}

// ---- lock boards (issue 15) ----

/** The alarm kind of a lock board that does not answer: one open alarm per locker and board. */
export const HARDWARE_FAULT_ALARM = 'hardware_fault';

/**
 * What a board's event does to its `hardware_fault` alarm: `hardware.fault` raises it (or counts it up while it
 * is open), `hardware.recovered` resolves it. Null for other events, or one naming no board.
 */
export function boardAlarm(event: DeviceEvent): { action: 'raise' | 'resolve'; board: string; detail: Record<string, unknown> } | null {
  if (!event.board) return null;
  if (event.type === 'hardware.fault') return { action: 'raise', board: event.board, detail: { board: event.board, seq: event.seq, ...(event.reason ? { reason: event.reason } : {}) } };
  if (event.type === 'hardware.recovered') return { action: 'resolve', board: event.board, detail: { board: event.board, seq: event.seq } };
  return null;
}

/**
 * The grant a lock that could not be driven leaves unused: the locker accepted the code, its hardware failed
 * before the door could open (`session.aborted` with HARDWARE_FAULT), and it forgot the use. Null otherwise.
 */
export function grantFreedBy(event: DeviceEvent): string | null {
  return event.type === 'session.aborted' && event.reason === 'HARDWARE_FAULT' && event.jti ? event.jti : null;
}
