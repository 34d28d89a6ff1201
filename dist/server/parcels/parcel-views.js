import { LockstepError } from '../errors.js';
import { derivePin, pinSourceOf } from '../codes/pins.js';
/** The API's view of a parcel row (shared/api/parcels.ts declares the shape). */
export function parcelView(p) {
    return {
        id: p.id,
        status: p.status,
        lockerId: p.locker_id,
        compartmentId: p.compartment_id,
        size: p.size,
        reference: p.reference,
        recipient: JSON.parse(p.recipient),
        kind: p.kind,
        sender: p.sender ? JSON.parse(p.sender) : null,
        createdAt: p.created_at,
        depositedAt: p.deposited_at,
        pickedUpAt: p.picked_up_at,
        pickupDeadline: p.pickup_deadline,
        windowPausedSince: p.status === 'in_locker' ? p.paused_since : null,
        extensions: p.extensions,
    };
}
/** `ownedBy` restricts the read to parcels with that `created_by` (a carrier's own); others read as not found. */
export async function readParcel(ctx, id, ownedBy) {
    let query = ctx.db.selectFrom('parcels').selectAll().where('id', '=', id);
    if (ownedBy !== undefined)
        query = query.where('created_by', '=', ownedBy);
    const parcel = await query.executeTakeFirst();
    if (!parcel)
        throw new LockstepError('PARCEL_NOT_FOUND', { parcelId: id });
    return { ...parcelView(parcel), history: await readHistory(ctx, id) };
}
/**
 * The parcel's timeline: every change in the order it was recorded, each with its source (`api` and the
 * principal, `device` and `lockerId#seq` or the presence message, `scheduler` and the rule).
 */
export async function readTimeline(ctx, id, ownedBy) {
    let query = ctx.db.selectFrom('parcels').select(['id', 'status']).where('id', '=', id);
    if (ownedBy !== undefined)
        query = query.where('created_by', '=', ownedBy);
    const parcel = await query.executeTakeFirst();
    if (!parcel)
        throw new LockstepError('PARCEL_NOT_FOUND', { parcelId: id });
    return { parcelId: parcel.id, status: parcel.status, entries: await readHistory(ctx, id) };
}
async function readHistory(ctx, parcelId) {
    const history = await ctx.db.selectFrom('parcel_history').selectAll().where('parcel_id', '=', parcelId).orderBy('id').execute();
    return history.map((h) => ({
        at: h.at,
        type: h.type,
        status: h.status,
        source: h.source,
        sourceRef: h.source_ref,
        detail: h.detail ? JSON.parse(h.detail) : null,
    }));
}
/**
 * Notifications sent for a parcel (`ownedBy` as in readParcel). Stand-in for real delivery: the pickup code is
 * re-derived from the grant id when read (PINs are never stored).
 */
export async function readNotifications(ctx, parcelId, ownedBy) {
    let query = ctx.db.selectFrom('parcels').select('id').where('id', '=', parcelId);
    if (ownedBy !== undefined)
        query = query.where('created_by', '=', ownedBy);
    const parcel = await query.executeTakeFirst();
    if (!parcel)
        throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
    const rows = await ctx.db
        .selectFrom('notifications as n')
        .innerJoin('grants as g', 'g.jti', 'n.grant_jti')
        .select(['n.id', 'n.kind', 'n.recipient', 'n.created_at', 'n.grant_jti', 'g.token', 'g.pin_jti'])
        .where('n.parcel_id', '=', parcelId)
        .orderBy('n.created_at')
        .execute();
    const out = [];
    for (const n of rows) {
        // A pickup grant re-issued with a later end keeps the PIN; the QR to show is the newest one.
        const reissued = await ctx.db
            .selectFrom('grants')
            .select('token')
            .where('pin_jti', '=', pinSourceOf({ jti: n.grant_jti, pin_jti: n.pin_jti }))
            .where('status', '!=', 'revoked')
            .orderBy('exp', 'desc')
            .executeTakeFirst();
        out.push({
            id: n.id,
            kind: n.kind,
            to: JSON.parse(n.recipient),
            createdAt: n.created_at,
            code: {
                pin: derivePin(ctx.pinSecret, pinSourceOf({ jti: n.grant_jti, pin_jti: n.pin_jti }), ctx.config.pinLength, ctx.config.pinAlphabet),
                qr: reissued?.token ?? n.token,
            },
        });
    }
    return out;
}
//# sourceMappingURL=parcel-views.js.map