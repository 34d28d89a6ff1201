import { recordAudit, SYSTEM_ACTOR } from '../audit/audit-log.js';
/**
 * Marks requests to open an occupied compartment that nobody approved in time as expired (scheduler, with the
 * commands' expiry), each audited as `remote_open.expire` by `system`. An approval after the time refuses by itself.
 */
export async function expireRemoteOpenRequests(ctx) {
    const now = ctx.clock.now();
    const due = await ctx.db.selectFrom('remote_open_requests').selectAll().where('state', '=', 'pending_approval').where('expires_at', '<=', now).limit(1000).execute();
    let expired = 0;
    for (const r of due) {
        await ctx.db.transaction().execute(async (trx) => {
            const done = await trx.updateTable('remote_open_requests').set({ state: 'expired' }).where('id', '=', r.id).where('state', '=', 'pending_approval').executeTakeFirst();
            if (Number(done.numUpdatedRows) === 0)
                return;
            expired++;
            await recordAudit(trx, {
                at: now,
                actor: SYSTEM_ACTOR,
                action: 'remote_open.expire',
                result: 'done',
                lockerId: r.locker_id,
                compartmentId: r.compartment_id,
                reason: 'not approved in time',
                subject: r.id,
                detail: { requestedBy: r.requested_by, expiresAt: r.expires_at },
            });
        });
    }
    return expired;
}
//# sourceMappingURL=remote-open-expiry.js.map