import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { remindersDue } from './lifecycle.js';
import { windowOf } from './pickup-window.js';
/**
 * Scheduler rule: for each lead time of PICKUP_REMINDERS_SEC, parcels whose running window ends within it get a
 * `parcel.reminder` (with the pickup code) once. The reminder is recorded in the transaction that queues it, so
 * it is sent once even when the window moves later (a pause, an extension).
 */
export async function sendPickupReminders(ctx) {
    const now = ctx.clock.now();
    let sent = 0;
    for (const lead of ctx.config.pickupRemindersSec) {
        const leadMs = lead * 1000;
        const candidates = await ctx.db
            .selectFrom('parcels as p')
            .select('p.id')
            .where('p.status', '=', 'in_locker')
            .where('p.paused_since', 'is', null)
            .where('p.pickup_deadline', '<=', now + leadMs)
            .where('p.pickup_deadline', '>', now)
            .where((eb) => eb.not(eb.exists(eb.selectFrom('parcel_reminders as r').select('r.parcel_id').whereRef('r.parcel_id', '=', 'p.id').where('r.lead_sec', '=', lead))))
            .limit(500)
            .execute();
        for (const { id } of candidates) {
            try {
                const done = await inUnitOfWork(ctx, async (uow) => {
                    const { trx } = uow;
                    const parcel = await trx.selectFrom('parcels').selectAll().where('id', '=', id).where('status', '=', 'in_locker').executeTakeFirst();
                    const w = parcel && windowOf(parcel);
                    if (!parcel || !w || parcel.deposited_at === null)
                        return false;
                    const already = await trx.selectFrom('parcel_reminders').select('lead_sec').where('parcel_id', '=', id).execute();
                    const due = remindersDue(w, parcel.deposited_at, [lead], new Set(already.map((r) => r.lead_sec)), now);
                    if (!due.length) {
                        // Never due (the lead is longer than the whole window): recorded so it is not looked at again.
                        if (w.deadline - leadMs <= parcel.deposited_at)
                            await trx.insertInto('parcel_reminders').values({ parcel_id: id, lead_sec: lead, deadline: w.deadline, sent_at: 0 }).onConflict((oc) => oc.doNothing()).execute();
                        return false;
                    }
                    const r = await trx.insertInto('parcel_reminders').values({ parcel_id: id, lead_sec: lead, deadline: w.deadline, sent_at: now }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
                    if (r.numInsertedOrUpdatedRows !== 1n)
                        return false;
                    const window = { pickupDeadline: w.deadline, leadSec: lead };
                    await uow.addHistory({ parcelId: id, at: now, type: 'reminder', status: parcel.status, source: 'scheduler', sourceRef: `reminder-${lead}s`, detail: window });
                    await enqueueParcelEvent(trx, parcel, 'parcel.reminder', now, { window });
                    return true;
                });
                if (done)
                    sent++;
            }
            catch (err) {
                ctx.log.error({ err, parcelId: id }, 'pickup reminder failed');
            }
        }
    }
    return sent;
}
//# sourceMappingURL=reminders.js.map