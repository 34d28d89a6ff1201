/** Counts parcels by where they are. */
export function keepBooks(parcels) {
    const count = (...s) => parcels.filter((p) => s.includes(p.status)).length;
    return {
        booked: parcels.length,
        inTransit: count('booked'),
        inLockers: count('in_locker', 'expired'),
        pickedUp: count('picked_up'),
        returned: count('returned'),
        cancelled: count('cancelled'),
    };
}
/**
 * The design brief's invariants, checked on the state at the end of a run (after the fleet converged).
 * Returns one line per broken invariant; empty when all hold.
 */
export function checkInvariants({ parcels, lockers, devices }) {
    const violations = [];
    const holding = new Map();
    for (const p of parcels) {
        if (p.status === 'booked' || p.status === 'in_locker' || p.status === 'expired') {
            const key = `${p.lockerId}/${p.compartmentId}`;
            holding.set(key, [...(holding.get(key) ?? []), p.id]);
        }
    }
    // 1. A compartment holds at most one parcel; a parcel is in at most one compartment.
    for (const [key, ids] of holding) {
        if (ids.length > 1)
            violations.push(`compartment ${key} holds ${ids.length} parcels: ${ids.join(', ')}`);
    }
    const seenIn = new Map();
    for (const l of lockers) {
        for (const c of l.compartments) {
            if (!c.parcelId)
                continue;
            const where = `${l.id}/${c.id}`;
            const other = seenIn.get(c.parcelId);
            if (other)
                violations.push(`parcel ${c.parcelId} is in two compartments: ${other} and ${where}`);
            seenIn.set(c.parcelId, where);
            const holders = holding.get(where);
            const known = parcels.some((p) => p.id === c.parcelId);
            if (known && !holders?.includes(c.parcelId))
                violations.push(`compartment ${where} is held by ${c.parcelId}, which does not hold it`);
        }
    }
    for (const [key, ids] of holding) {
        const [lockerId, compartmentId] = key.split('/');
        const c = lockers.find((l) => l.id === lockerId)?.compartments.find((x) => x.id === compartmentId);
        if (c && c.parcelId !== ids[0])
            violations.push(`parcel ${ids[0]} holds ${key}, but the compartment says ${c.parcelId ?? 'free'}`);
    }
    // 2. A grant opens a door at most once (as the locker saw it, and as the server learned it).
    for (const [lockerId, d] of devices) {
        for (const [jti, n] of d.acceptedByJti ?? []) {
            if (n > 1)
                violations.push(`grant ${jti} opened a door ${n} times at ${lockerId}`);
        }
    }
    for (const p of parcels) {
        if (p.history?.some((h) => h.type === 'grant.reused'))
            violations.push(`a grant of parcel ${p.id} was used more than once`);
    }
    // 3. Every event a locker recorded reached the server exactly once (seqs run 1..lastSeq without gaps).
    for (const l of lockers) {
        const d = devices.get(l.id);
        if (!d)
            continue;
        if (l.events.received !== d.lastSeq || l.events.lastSeq !== d.lastSeq) {
            violations.push(`locker ${l.id} recorded ${d.lastSeq} events; the server committed ${l.events.received} (last seq ${l.events.lastSeq})`);
        }
    }
    // 4. Booked = in transit + in lockers + picked up + returned + cancelled.
    const b = keepBooks(parcels);
    const sum = b.inTransit + b.inLockers + b.pickedUp + b.returned + b.cancelled;
    if (sum !== b.booked)
        violations.push(`books do not balance: booked ${b.booked} ≠ ${sum}`);
    return violations;
}
//# sourceMappingURL=checker.js.map