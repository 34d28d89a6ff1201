import { Type, type Static } from '@sinclair/typebox';

/** Compartment sizes, smallest first. A parcel fits any compartment of its size or larger. */
export const COMPARTMENT_SIZES = ['S', 'M', 'L', 'XL'] as const;

export const CompartmentSize = Type.Union(COMPARTMENT_SIZES.map((s) => Type.Literal(s)));
export type CompartmentSize = Static<typeof CompartmentSize>;

export function sizeRank(size: CompartmentSize): number {
  return COMPARTMENT_SIZES.indexOf(size);
}

/** True when a parcel of `parcel` size fits a compartment of `compartment` size. */
export function fits(parcel: CompartmentSize, compartment: CompartmentSize): boolean {
  return sizeRank(compartment) >= sizeRank(parcel);
}
