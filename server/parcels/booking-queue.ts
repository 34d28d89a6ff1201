/**
 * Group commit for bookings (server/store/group-commit.ts, plain mode): the bookings that arrive in the same turn
 * of the event loop (and those that queue while a commit is in flight) run in one transaction, one durable commit
 * for all of them, written together by booking-group.ts. A refused booking (full locker, unknown locker, size not
 * offered) writes nothing and is answered with its refusal; the others commit. Every caller learns its outcome only
 * after the commit that holds it, so nothing of a booking (its grants, its PIN) leaves the server before it is
 * durable.
 *
 * A group that fails as a whole (a failing statement, a Postgres deadlock or serialisation failure, SQLITE_BUSY, a
 * failed commit) is rolled back and each of its bookings runs again in its own transaction, retried as before: one
 * bad booking fails only itself.
 */
import type { ServerContext } from '../context.js';
import { plainGroupCommit, type GroupCommit, type GroupCommitOptions } from '../store/group-commit.js';
import { writeBookingGroup, type BookingItem, type BookingOutcome } from './booking-group.js';

export type BookingQueue = GroupCommit<BookingItem, BookingOutcome>;

/** Most bookings in one transaction: bounds how long one commit holds the database. */
export const MAX_BOOKING_GROUP = 64;

/** Built once per server (createServer), reached as ctx.writers.bookings. */
export function createBookingQueue(o: GroupCommitOptions, ctxOf: () => ServerContext): BookingQueue {
  return plainGroupCommit<BookingItem, BookingOutcome>(o, (trx, items) => writeBookingGroup(ctxOf(), trx, items));
}

/** How many group transactions (more than one booking each) committed on this server, and how many bookings they held. */
export function bookingGroupStats(ctx: ServerContext): { groups: number; bookings: number; failedGroups: number } {
  const s = ctx.writers.bookings.stats();
  return { groups: s.groups, bookings: s.items, failedGroups: s.failedGroups };
}
