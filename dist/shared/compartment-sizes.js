import { Type } from '@sinclair/typebox';
/** Compartment sizes, smallest first. A parcel fits any compartment of its size or larger. */
export const COMPARTMENT_SIZES = ['S', 'M', 'L', 'XL'];
export const CompartmentSize = Type.Union(COMPARTMENT_SIZES.map((s) => Type.Literal(s)));
export function sizeRank(size) {
    return COMPARTMENT_SIZES.indexOf(size);
}
/** True when a parcel of `parcel` size fits a compartment of `compartment` size. */
export function fits(parcel, compartment) {
    return sizeRank(compartment) >= sizeRank(parcel);
}
//# sourceMappingURL=compartment-sizes.js.map