import { releaseConfirmed } from '../desired-state/release-compartments.js';
import { prepareQuery } from '../store/prepared-query.js';
/** Most statuses or reports in one transaction: bounds how long one commit holds the database. */
export const MAX_REPORT_GROUP = 500;
/** Reports may arrive out of order: an older one never moves the record back. */
const recordReport = prepareQuery((db, a) => db.updateTable('lockers').set({ reported_version: a.version, reported_seq: a.lastSeq, last_seen_at: a.at }).where('id', '=', a.lockerId).where('reported_version', '<=', a.version));
/** A locker's retained status (online, or offline by its will): one autocommit (one fsync) each before. */
const recordStatus = prepareQuery((db, a) => db.updateTable('lockers').set({ online: a.online, boot_id: a.bootId, last_seen_at: a.at }).where('id', '=', a.lockerId));
/** A group of status messages, in the group's transaction (ctx.writers.statuses). */
export async function writeStatuses(ctx, trx, group) {
    const now = ctx.clock.now();
    for (const st of group)
        await recordStatus.run(trx, { lockerId: st.lockerId, online: st.online ? 1 : 0, bootId: st.bootId, at: now });
    return group.map(() => undefined);
}
/** A group of state reports, in the group's transaction (ctx.writers.reports). */
export async function writeReports(ctx, trx, group) {
    const now = ctx.clock.now();
    for (const r of group) {
        await recordReport.run(trx, { ...r, at: now });
        await releaseConfirmed(trx, r.lockerId, now);
    }
    return group.map(() => undefined);
}
/** A locker's status message, written with the others of its turn in one transaction. */
export function recordLockerStatus(ctx, status) {
    return ctx.writers.statuses.add(status);
}
/**
 * A locker's `state/reported`: the version it applied and the last event seq it had recorded by then; frees the
 * compartments this makes safe to release. Reports of the same turn share one transaction (one fsync): a
 * transaction per report was about a fifth of the server's commits in the 10,000-locker simulation. Rejects if
 * this report could not be written (the locker reports again with its next version or heartbeat cycle).
 */
export function recordStateReport(ctx, report) {
    return ctx.writers.reports.add(report);
}
//# sourceMappingURL=locker-reports.js.map