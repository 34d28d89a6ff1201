import { savepointGroupCommit } from '../store/group-commit.js';
/** Most bookings in one transaction: bounds how long one commit holds the database. */
export const MAX_BOOKING_GROUP = 64;
/** Built once per server (createServer), reached as ctx.writers.bookings. */
export function createBookingQueue(o) {
    return savepointGroupCommit(o, (trx, item) => item.work(trx));
}
/** Runs `work` (a booking into `lockerId`) in the next group transaction; resolves once that committed. */
export function inBookingGroup(ctx, lockerId, work) {
    return ctx.writers.bookings.add({ lockerId, work });
}
/** How many group transactions (more than one booking each) committed on this server, and how many bookings they held. */
export function bookingGroupStats(ctx) {
    const s = ctx.writers.bookings.stats();
    return { groups: s.groups, bookings: s.items, failedGroups: s.failedGroups };
}
//# sourceMappingURL=booking-queue.js.map