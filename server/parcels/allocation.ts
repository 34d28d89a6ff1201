import { fits, sizeRank, type CompartmentSize } from '../../shared/compartment-sizes.js';

export interface CompartmentCandidate {
  id: string;
  size: CompartmentSize;
  inService: boolean;
  /** Parcel reserved into or held by it; null when free. */
  parcelId: string | null;
}

export type Allocation = { ok: true; compartmentId: string } | { ok: false; code: 'SIZE_NOT_OFFERED' | 'NO_FREE_COMPARTMENT' };

/** Picks the smallest free in-service compartment that fits the parcel (ties: lowest id). */
export function chooseCompartment(compartments: readonly CompartmentCandidate[], size: CompartmentSize): Allocation {
  const fitting = compartments.filter((c) => fits(size, c.size));
  if (fitting.length === 0) return { ok: false, code: 'SIZE_NOT_OFFERED' };
  const free = fitting
    .filter((c) => c.inService && c.parcelId === null)
    .sort((a, b) => sizeRank(a.size) - sizeRank(b.size) || a.id.localeCompare(b.id));
  const best = free[0];
  return best ? { ok: true, compartmentId: best.id } : { ok: false, code: 'NO_FREE_COMPARTMENT' };
}

