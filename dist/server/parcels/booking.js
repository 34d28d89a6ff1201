import { randomUUID } from 'node:crypto';
import { LockstepError } from '../errors.js';
import { issueGrants } from '../codes/grant-issuer.js';
import { UnitOfWork } from '../desired-state/unit-of-work.js';
import { chooseCompartment, rankFree, reserveFirstFree } from './allocation.js';
import { nearestWithSpace } from './nearest-lockers.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { inBookingGroup } from './booking-queue.js';
import { prepareQuery } from '../store/prepared-query.js';
/**
 * Books a parcel: reserves the smallest free compartment that fits, issues its drop-off and pickup grants,
 * and queues both for the locker in one new desired-state version. The drop-off PIN is returned once.
 * Bookings arriving together share one transaction and one durable commit (booking-queue.ts); this resolves
 * only after the commit that holds this booking.
 */
export async function bookParcel(ctx, req, principalId) {
    const kind = req.kind ?? 'delivery';
    if (kind !== 'delivery' && !req.sender)
        throw new LockstepError('SENDER_REQUIRED', { kind });
    const parcelId = `p_${randomUUID().replaceAll('-', '')}`;
    const result = await inBookingGroup(ctx, req.lockerId, async (trx) => {
        // One unit of work per attempt: a booking retried alone, or rolled back in its savepoint, publishes nothing.
        const uow = new UnitOfWork(trx, ctx);
        return { ...(await bookInto(ctx, uow, req, kind, parcelId, principalId)), uow };
    });
    await result.uow.committed();
    return { parcel: result.parcel, dropoff: { pin: result.dropoff.pin, qr: result.dropoff.row.token } };
}
/** The booking's statements, inside the group's transaction (or its own, on a retry). */
async function bookInto(ctx, uow, req, kind, parcelId, principalId) {
    const now = ctx.clock.now();
    const trx = uow.trx;
    // The locker's row first: it says whether the locker exists, and orders bookings of one locker (Postgres).
    const version = await uow.takeDesiredVersion(req.lockerId);
    if (version === undefined)
        throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
    const compartments = (await compartmentsOf.run(trx, { lockerId: req.lockerId })).rows.map((c) => ({ id: c.id, size: c.size, inService: c.in_service === 1, parcelId: c.parcel_id }));
    const choice = chooseCompartment(compartments, req.size);
    if (!choice.ok) {
        // A full locker answers with the nearest lockers that have a fitting compartment free.
        const alternatives = choice.code === 'NO_FREE_COMPARTMENT' ? await nearestWithSpace(trx, req.lockerId, req.size) : [];
        throw new LockstepError(choice.code, { lockerId: req.lockerId, size: req.size, ...(alternatives.length ? { alternatives } : {}) });
    }
    // Best first, each with a conditional update: two bookings never share a compartment, and one that lost the
    // race for it (another server process) takes the next free one.
    const compartmentId = await reserveFirstFree(trx, req.lockerId, parcelId, rankFree(compartments, req.size));
    if (!compartmentId)
        throw new LockstepError('NO_FREE_COMPARTMENT', { lockerId: req.lockerId });
    const size = compartments.find((c) => c.id === compartmentId)?.size ?? req.size;
    const parcel = {
        id: parcelId,
        locker_id: req.lockerId,
        compartment_id: compartmentId,
        size,
        status: 'booked',
        reference: req.reference,
        recipient: JSON.stringify(req.recipient),
        created_by: principalId,
        created_at: now,
        updated_at: now,
        deposited_at: null,
        picked_up_at: null,
        release_version: null,
        kind,
        sender: req.sender ? JSON.stringify(req.sender) : null,
        pickup_deadline: null,
        paused_since: null,
        pause_reason: null,
        paused_ms: 0,
        extensions: 0,
    };
    await insertParcel.run(trx, parcel);
    const depositUntil = now + ctx.config.depositWindowSec * 1000;
    const base = { lockerId: req.lockerId, parcelId, compartmentId, notBefore: now };
    const [dropoff, pickup] = (await issueGrants(ctx, trx, [
        { ...base, action: 'deposit', expiresAt: depositUntil },
        { ...base, action: 'pickup', expiresAt: depositUntil + ctx.config.pickupWindowSec * 1000 },
    ]));
    await uow.addHistory({ parcelId, at: now, type: 'booked', status: 'booked', source: 'api', sourceRef: principalId, detail: { compartmentId, size, ...(kind !== 'delivery' ? { kind } : {}) } });
    await enqueueParcelEvent(trx, parcel, 'parcel.booked', now);
    // A sender booking: the drop-off code goes to the sender through the carrier's system.
    if (kind !== 'delivery')
        await enqueueParcelEvent(trx, parcel, 'parcel.dropoff_code', now, { grantJti: dropoff.row.jti });
    const changes = [
        { op: 'grant.add', token: dropoff.row.token },
        { op: 'grant.add', token: pickup.row.token },
    ];
    await uow.recordDesiredChange(req.lockerId, version, changes, now);
    return { parcel, dropoff };
}
// The booking's own statements, compiled once (server/store/prepared-query.ts).
const compartmentsOf = prepareQuery((db, a) => db.selectFrom('compartments').select(['id', 'size', 'in_service', 'parcel_id']).where('locker_id', '=', a.lockerId));
const insertParcel = prepareQuery((db, parcel) => db.insertInto('parcels').values(parcel));
//# sourceMappingURL=booking.js.map