import { createBookingQueue, MAX_BOOKING_GROUP } from './parcels/booking-queue.js';
import { plainGroupCommit } from './store/group-commit.js';
import { createEventWriter, MAX_EVENT_GROUP } from './sync/handle-events.js';
import { MAX_HEARTBEAT_GROUP, writeHeartbeats } from './sync/heartbeats.js';
import { MAX_REPORT_GROUP, writeReports, writeStatuses } from './sync/locker-reports.js';
/**
 * `ctxOf` gives the server's context to the device writers when a group runs (they need its clock, config and
 * keys); the queues themselves hold only the database.
 */
export function createWriters(deps, ctxOf) {
    const options = (writer, maxGroup) => ({
        db: deps.db,
        maxGroup,
        onGroupFailed(err, size) {
            deps.stats.groupCommitFailed(writer);
            deps.log.warn({ err, writer, size }, 'group commit failed; its items run again one by one');
        },
    });
    return {
        heartbeats: plainGroupCommit(options('heartbeats', MAX_HEARTBEAT_GROUP), (trx, items) => writeHeartbeats(ctxOf(), trx, items)),
        statuses: plainGroupCommit(options('statuses', MAX_REPORT_GROUP), (trx, items) => writeStatuses(ctxOf(), trx, items)),
        reports: plainGroupCommit(options('reports', MAX_REPORT_GROUP), (trx, items) => writeReports(ctxOf(), trx, items)),
        events: createEventWriter(options('events', MAX_EVENT_GROUP), ctxOf),
        bookings: createBookingQueue(options('bookings', MAX_BOOKING_GROUP)),
    };
}
//# sourceMappingURL=writers.js.map