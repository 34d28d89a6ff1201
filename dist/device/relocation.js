import { sizeRank } from '../shared/compartment-sizes.js';
/**
 * Where a deposit goes when its compartment cannot take it: the smallest free, in-service compartment that is
 * strictly larger (the parcel does not fit) or at least as large (the lock jammed), first by id among equals.
 * Only compartments this locker itself knows to be empty and not promised to another parcel. Pure; null when
 * none is left.
 */
export function pickRelocation(from, candidates, reason) {
    const rank = sizeRank;
    const min = rank(from.size) + (reason === 'DOES_NOT_FIT' ? 1 : 0);
    const fitting = candidates
        .filter((c) => c.id !== from.id && rank(c.size) >= min && c.inService && !c.fault && c.parcelId === null && !c.busy && !c.reserved)
        .sort((a, b) => rank(a.size) - rank(b.size) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return fitting[0]?.id ?? null;
}
//# sourceMappingURL=relocation.js.map