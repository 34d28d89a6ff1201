import { LockstepError } from '../errors.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { extendWindow } from './lifecycle.js';
import { coverDeadline, openParcelWindow, windowOf } from './pickup-window.js';
/**
 * Extends a parcel's pickup window by EXTENSION_SEC, at most MAX_EXTENSIONS times, while it is in the locker.
 * When the pickup grant would end before the new deadline it is re-issued with the same PIN (the new QR goes out
 * with `parcel.extended`). `ownedBy` restricts it to a carrier's own parcels (others read as not found).
 */
export async function extendPickupWindow(ctx, parcelId, principalRef, ownedBy) {
    const now = ctx.clock.now();
    return inUnitOfWork(ctx, async (uow) => {
        const { trx } = uow;
        let q = trx.selectFrom('parcels').selectAll().where('id', '=', parcelId);
        if (ownedBy !== undefined)
            q = q.where('created_by', '=', ownedBy);
        let p = await q.executeTakeFirst();
        if (!p)
            throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
        if (p.status === 'in_locker' && p.pickup_deadline === null) {
            // Deposited within the last second: the scheduler has not opened the window yet.
            const l = await trx.selectFrom('lockers').select(['last_outage_from', 'last_outage_to']).where('id', '=', p.locker_id).executeTakeFirstOrThrow();
            const outage = l.last_outage_from !== null && l.last_outage_to !== null ? { from: l.last_outage_from, to: l.last_outage_to } : null;
            const opened = await openParcelWindow(ctx, uow, p, outage);
            if (opened)
                p = { ...p, ...opened };
        }
        const w = windowOf(p);
        const result = extendWindow(p.status, w, { extensionMs: ctx.config.extensionSec * 1000, maxExtensions: ctx.config.maxExtensions });
        if (!result.ok)
            throw new LockstepError(result.code, { parcelId, status: p.status, extensions: p.extensions, maxExtensions: ctx.config.maxExtensions });
        const next = result.window;
        const r = await trx
            .updateTable('parcels')
            .set({ pickup_deadline: next.deadline, extensions: next.extensions, updated_at: now })
            .where('id', '=', parcelId)
            .where('status', '=', 'in_locker')
            .where('extensions', '=', p.extensions)
            .where('pickup_deadline', '=', next.deadline - ctx.config.extensionSec * 1000)
            .executeTakeFirst();
        // Another request moved it first (SQLite serialises writers; Postgres may not): the caller asks again.
        if (r.numUpdatedRows !== 1n)
            throw new LockstepError('EXTENSION_LIMIT_REACHED', { parcelId, concurrent: true });
        const changes = await coverDeadline(ctx, trx, p, next.deadline);
        if (changes.length)
            await uow.changeDesiredState(p.locker_id, changes, now);
        const window = { pickupDeadline: next.deadline, extensions: next.extensions };
        await uow.addHistory({
            parcelId,
            at: now,
            type: 'extended',
            status: p.status,
            source: 'api',
            sourceRef: principalRef,
            detail: { ...window, extensionSec: ctx.config.extensionSec, ...(changes.length ? { pickupGrantReissued: true } : {}) },
        });
        await enqueueParcelEvent(trx, p, 'parcel.extended', now, { window });
        return { ...p, pickup_deadline: next.deadline, extensions: next.extensions, updated_at: now };
    });
}
//# sourceMappingURL=extend.js.map