import { checkClaims } from '../shared/grants.js';
/**
 * Whether a grant whose signature checked out may open its compartment now. Pure: the whole decision, no I/O.
 * A pickup opens only a compartment this locker itself saw filled with that parcel; a deposit only an empty one.
 * (When the locker moved a deposit, `compartment` is where it put the parcel: see the agent.) Batch grants
 * (`deposit_batch`) are decided per parcel by the agent (device/batch-entry.ts).
 */
export function decideAccess(claims, ctx) {
    const claimVerdict = checkClaims(claims, { lockerId: ctx.lockerId, now: ctx.now, clockToleranceSec: ctx.clockToleranceSec });
    if (claimVerdict)
        return claimVerdict;
    if (ctx.used)
        return 'ALREADY_USED';
    if (ctx.revoked)
        return 'REVOKED';
    const c = ctx.compartment;
    if (!c)
        return 'UNKNOWN_COMPARTMENT';
    if (c.fault)
        return 'COMPARTMENT_FAULT';
    if (c.busy)
        return 'COMPARTMENT_BUSY';
    switch (claims.act) {
        case 'deposit':
            if (ctx.parcelHeldIn !== undefined)
                return 'ALREADY_DEPOSITED';
            if (!c.inService)
                return 'OUT_OF_SERVICE';
            return c.parcelId === null ? null : 'COMPARTMENT_OCCUPIED';
        case 'pickup':
        case 'collect':
            return c.parcelId === claims.sub ? null : 'NOT_FILLED';
        default:
            return 'UNSUPPORTED_ACTION';
    }
}
//# sourceMappingURL=access-rules.js.map