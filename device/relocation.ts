import { sizeRank, type CompartmentSize } from '../shared/compartment-sizes.js';
import type { RelocationReason } from './compartment-machine.js';

/** What the locker knows of a compartment it might put a parcel into instead. */
export interface RelocationCandidate {
  id: string;
  size: CompartmentSize;
  inService: boolean;
  fault: string | null;
  /** The parcel this locker saw put in; null when it saw it empty. */
  parcelId: string | null;
  /** A door session is going on. */
  busy: boolean;
  /** A live deposit code of another parcel names it (the server booked it for that parcel). */
  reserved: boolean;
}

/**
 * Where a deposit goes when its compartment cannot take it: the smallest free, in-service compartment that is
 * strictly larger (the parcel does not fit) or at least as large (the lock jammed), first by id among equals.
 * Only compartments this locker itself knows to be empty and not promised to another parcel. Pure; null when
 * none is left.
 */
export function pickRelocation(
  from: { id: string; size: CompartmentSize },
  candidates: readonly RelocationCandidate[],
  reason: RelocationReason,
): string | null {
  const rank = sizeRank;
  const min = rank(from.size) + (reason === 'DOES_NOT_FIT' ? 1 : 0);
  const fitting = candidates
    .filter((c) => c.id !== from.id && rank(c.size) >= min && c.inService && !c.fault && c.parcelId === null && !c.busy && !c.reserved)
    .sort((a, b) => rank(a.size) - rank(b.size) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return fitting[0]?.id ?? null;
}
