import type { ParcelStatus } from '../store/schema.js';

/** What can happen to a parcel. */
export type ParcelTrigger = 'deposit' | 'pickup' | 'cancel' | 'expire' | 'collect';

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
