/**
 * The group-commit queues of one server (server/store/group-commit.ts), built once by createServer and reached
 * as `ctx.writers`: device heartbeats, statuses, state reports and event batches, and bookings. A group whose
 * transaction fails as a whole is logged and counted (ServerStats, /metrics) before its items run alone.
 */
import type { Logger } from 'pino';
import type { ServerContext } from './context.js';
import { createBookingQueue, MAX_BOOKING_GROUP, type BookingQueue } from './parcels/booking-queue.js';
import type { ServerStats } from './stats.js';
import type { Db } from './store/database.js';
import { plainGroupCommit, type GroupCommit, type GroupCommitOptions } from './store/group-commit.js';
import { createEventWriter, MAX_EVENT_GROUP, type EventWriter } from './sync/handle-events.js';
import { MAX_HEARTBEAT_GROUP, writeHeartbeats, type Beat } from './sync/heartbeats.js';
import { MAX_REPORT_GROUP, writeReports, writeStatuses, type Report, type Status, type StatusWritten } from './sync/locker-reports.js';

export interface Writers {
  readonly heartbeats: GroupCommit<Beat, number | undefined>;
  readonly statuses: GroupCommit<Status, StatusWritten | undefined>;
  readonly reports: GroupCommit<Report, void>;
  readonly events: EventWriter;
  readonly bookings: BookingQueue;
}

/**
 * `ctxOf` gives the server's context to the device writers when a group runs (they need its clock, config and
 * keys); the queues themselves hold only the database.
 */
export function createWriters(deps: { db: Db; log: Logger; stats: ServerStats }, ctxOf: () => ServerContext): Writers {
  const options = (writer: string, maxGroup: number): GroupCommitOptions => ({
    db: deps.db,
    maxGroup,
    onGroupFailed(err, size) {
      deps.stats.groupCommitFailed(writer);
      deps.log.warn({ err, writer, size }, 'group commit failed; its items run again one by one');
    },
  });
  return {
    heartbeats: plainGroupCommit<Beat, number | undefined>(options('heartbeats', MAX_HEARTBEAT_GROUP), (trx, items) => writeHeartbeats(ctxOf(), trx, items)),
    statuses: plainGroupCommit<Status, StatusWritten | undefined>(options('statuses', MAX_REPORT_GROUP), (trx, items) => writeStatuses(ctxOf(), trx, items)),
    reports: plainGroupCommit<Report, void>(options('reports', MAX_REPORT_GROUP), (trx, items) => writeReports(ctxOf(), trx, items)),
    events: createEventWriter(options('events', MAX_EVENT_GROUP), ctxOf),
    bookings: createBookingQueue(options('bookings', MAX_BOOKING_GROUP), ctxOf),
  };
}
