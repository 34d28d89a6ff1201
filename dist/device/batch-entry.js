import { batchItemKey, batchItemsOf } from './batch.js';
import { sessionRecord } from './door-controller.js';
/**
 * One entry of a batch code (`deposit_batch`, claims already verified and inside their window): opens the
 * compartment of the next parcel still to go in, or of the parcel whose label was scanned (`label`). Each
 * parcel's door opens once (`used_grants` holds `jti#parcel`, durable before the lock moves). A parcel that is
 * in already, or whose own drop-off grant was used or is gone (revoked: a cancelled booking), is skipped. A booked
 * compartment that became unusable sends the parcel to another one that fits (`parcel.moved`).
 */
export async function enterBatch(ctx, claims, via, label) {
    const { store } = ctx;
    const items = batchItemsOf(claims);
    if (!items)
        return { refused: 'MALFORMED' };
    if (await store.isRevoked(claims.jti))
        return { refused: 'REVOKED' };
    const pending = [];
    for (const item of items)
        if (await isPending(store, claims.jti, item))
            pending.push(item);
    const item = label === undefined ? pending[0] : pending.find((i) => i.p === label);
    if (!item)
        return { refused: label === undefined ? 'BATCH_DONE' : 'UNKNOWN_LABEL' };
    const booked = await store.compartment(item.c);
    let target = item.c;
    let moveReason;
    if (!booked || booked.fault || booked.in_service !== 1 || booked.parcel_id !== null || ctx.doors.isBusy(item.c)) {
        if (ctx.doors.isBusy(item.c) && booked?.parcel_id === null && !booked.fault)
            return { refused: 'COMPARTMENT_BUSY' };
        moveReason = 'COMPARTMENT_UNAVAILABLE';
        target = booked ? await ctx.doors.pickFor(item.p, { id: item.c, size: booked.size }, moveReason) : null;
    }
    if (!target)
        return { refused: 'NO_FREE_COMPARTMENT' };
    const to = target;
    const session = { jti: claims.jti, action: 'deposit', parcelId: item.p };
    const now = ctx.now();
    const events = [{ type: 'code.accepted', jti: claims.jti, action: 'deposit_batch', parcelId: item.p, compartmentId: to, via }];
    if (moveReason)
        events.push({ type: 'parcel.moved', jti: claims.jti, parcelId: item.p, compartmentId: to, fromCompartmentId: item.c, reason: moveReason });
    let fresh = true;
    await ctx
        .record(events, async (trx) => {
        fresh = await store.markUsed(trx, batchItemKey(claims.jti, item.p), claims.exp, now);
        if (!fresh)
            throw new UsedRace();
        if (moveReason)
            await store.recordMove(trx, item.p, item.c, to, now);
        await store.setSession(trx, to, sessionRecord(session, 'accepted'));
    })
        .catch((err) => {
        if (!(err instanceof UsedRace))
            throw err;
    });
    if (!fresh)
        return { refused: 'ALREADY_USED' };
    const remaining = pending.length - 1;
    ctx.display(`Door ${to} is open${remaining ? `; ${remaining} more with the same code` : ''}`);
    await ctx.doors.unlock(to, session);
    return { opened: to, parcelId: item.p, remaining };
}
/**
 * A parcel of the batch still to go in: its door not opened with this code, not in, and its own drop-off grant
 * here and unspent (a cancelled booking's grant was revoked, which removes it: the batch code skips it too).
 */
async function isPending(store, jti, item) {
    if (await store.isUsed(batchItemKey(jti, item.p)))
        return false;
    if (await store.holderOf(item.p))
        return false;
    const own = await store.depositGrantsOf(item.p);
    return own.length > 0 && !own.some((g) => g.used || g.revoked);
}
class UsedRace extends Error {
}
//# sourceMappingURL=batch-entry.js.map