import type { ParcelStatus } from '../../shared/api/parcels.js';

/** What can happen to a parcel's status. */
export type ParcelTrigger = 'deposit' | 'pickup' | 'cancel' | 'expire' | 'collect';
export const PARCEL_TRIGGERS: readonly ParcelTrigger[] = ['deposit', 'pickup', 'cancel', 'expire', 'collect'];

/**
 * The parcel state machine: booked → in_locker → picked_up; booked → cancelled; in_locker → expired →
 * returned. A pickup reported before its deposit (events arrive in any order) implies the deposit. The door
 * sensor's truth wins over a cancellation: a locker that took the parcel offline, before it learned of the
 * cancellation, moves it on (and the operator is told).
 */
const TRANSITIONS: Readonly<Record<ParcelStatus, Partial<Record<ParcelTrigger, ParcelStatus>>>> = {
  booked: { deposit: 'in_locker', pickup: 'picked_up', cancel: 'cancelled' },
  in_locker: { pickup: 'picked_up', expire: 'expired' },
  expired: { pickup: 'picked_up', collect: 'returned' },
  picked_up: {},
  returned: {},
  cancelled: { deposit: 'in_locker', pickup: 'picked_up' },
};

/** The status after `trigger`, or null when the trigger does not apply in `status`. */
export function nextStatus(status: ParcelStatus, trigger: ParcelTrigger): ParcelStatus | null {
  return TRANSITIONS[status][trigger] ?? null;
}

/** Statuses in which the parcel holds its compartment (reserved or filled). */
export function holdsCompartment(status: ParcelStatus): boolean {
  return status === 'booked' || status === 'in_locker' || status === 'expired';
}

/** Statuses nothing moves out of (a cancelled parcel may still be reconciled by the door sensor's word). */
export function isFinal(status: ParcelStatus): boolean {
  return status === 'picked_up' || status === 'returned';
}

// ---- the pickup window ---------------------------------------------------------------------------------------

/**
 * The pickup window of a parcel in the locker: it ends at `deadline` (ms), stands still while `pausedSince` is
 * set (locker offline, compartment out of service), and may be extended a limited number of times.
 */
export interface PickupWindow {
  deadline: number;
  pausedSince: number | null;
  /** Pause time already added to the deadline. */
  pausedMs: number;
  extensions: number;
}

export interface WindowRules {
  windowMs: number;
  extensionMs: number;
  maxExtensions: number;
}

/**
 * The window a deposit opens. A deposit recorded while the locker was offline (or before an outage that kept
 * its event from the server) is credited the part of that outage after the deposit.
 */
export function openWindow(depositedAt: number, windowMs: number, lastOutage?: { from: number; to: number } | null): PickupWindow {
  const credit = lastOutage && depositedAt < lastOutage.to ? lastOutage.to - Math.max(depositedAt, lastOutage.from) : 0;
  return { deadline: depositedAt + windowMs + credit, pausedSince: null, pausedMs: credit, extensions: 0 };
}

/** The window stands still from `at`; null when it already does. */
export function pauseWindow(w: PickupWindow, at: number): PickupWindow | null {
  if (w.pausedSince !== null) return null;
  return { ...w, pausedSince: at };
}

/** The window runs again at `at`, its end pushed by the time it stood still; null when it was not paused. */
export function resumeWindow(w: PickupWindow, at: number): PickupWindow | null {
  if (w.pausedSince === null) return null;
  const paused = Math.max(0, at - w.pausedSince);
  return { ...w, deadline: w.deadline + paused, pausedMs: w.pausedMs + paused, pausedSince: null };
}

export type ExtensionRefusal = 'PARCEL_NOT_IN_LOCKER' | 'EXTENSION_LIMIT_REACHED';

/** One extension through the API: only for a parcel in the locker, at most `maxExtensions` times. */
export function extendWindow(
  status: ParcelStatus,
  w: PickupWindow | null,
  rules: Pick<WindowRules, 'extensionMs' | 'maxExtensions'>,
): { ok: true; window: PickupWindow } | { ok: false; code: ExtensionRefusal } {
  if (status !== 'in_locker' || w === null) return { ok: false, code: 'PARCEL_NOT_IN_LOCKER' };
  if (w.extensions >= rules.maxExtensions) return { ok: false, code: 'EXTENSION_LIMIT_REACHED' };
  return { ok: true, window: { ...w, deadline: w.deadline + rules.extensionMs, extensions: w.extensions + 1 } };
}

/** The window ended: it runs (not paused) and its end has come. */
export function windowEnded(w: PickupWindow, now: number): boolean {
  return w.pausedSince === null && now >= w.deadline;
}

/**
 * The reminder lead times (seconds) due now and not sent yet. A lead is due once the deadline is that close, while
 * the window runs and has not ended; a lead longer than the whole window (from the deposit) is never sent.
 */
export function remindersDue(w: PickupWindow, depositedAt: number, leadsSec: readonly number[], sent: ReadonlySet<number>, now: number): number[] {
  if (w.pausedSince !== null || now >= w.deadline) return [];
  return leadsSec.filter((lead) => !sent.has(lead) && w.deadline - lead * 1000 <= now && w.deadline - lead * 1000 > depositedAt);
}
