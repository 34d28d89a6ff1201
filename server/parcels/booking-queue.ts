/**
 * Group commit for bookings (server/store/group-commit.ts, savepoint mode): the bookings that arrive in the same
 * turn of the event loop (and those that queue while a commit is in flight) run in one transaction, one durable
 * commit for all of them, each booking inside its own savepoint. A refused booking (full locker, unknown locker, a
 * failing statement) rolls back only its savepoint; the others commit. Every caller learns its outcome only after
 * the commit that holds it, so nothing of a booking (its grants, its PIN) leaves the server before it is durable.
 *
 * A group the database aborts as a whole (a Postgres deadlock or serialisation failure, SQLITE_BUSY, a failed
 * commit) is rolled back and each of its bookings runs again in its own transaction, retried as before.
 */
import type { Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import { savepointGroupCommit, type GroupCommit, type GroupCommitOptions } from '../store/group-commit.js';
import type { Database } from '../store/schema.js';

/** One booking's work: every statement it runs goes through `trx`; it may run more than once (a retry). */
export type GroupWork<T> = (trx: Transaction<Database>) => Promise<T>;

interface BookingItem {
  /** Bookings run in the order of their locker, as every group takes locker rows (fewer deadlocks on Postgres). */
  lockerId: string;
  work: GroupWork<unknown>;
}

export type BookingQueue = GroupCommit<BookingItem, unknown>;

/** Most bookings in one transaction: bounds how long one commit holds the database. */
export const MAX_BOOKING_GROUP = 64;

/** Built once per server (createServer), reached as ctx.writers.bookings. */
export function createBookingQueue(o: GroupCommitOptions): BookingQueue {
  return savepointGroupCommit<BookingItem, unknown>(o, (trx, item) => item.work(trx));
}

/** Runs `work` (a booking into `lockerId`) in the next group transaction; resolves once that committed. */
export function inBookingGroup<T>(ctx: ServerContext, lockerId: string, work: GroupWork<T>): Promise<T> {
  return ctx.writers.bookings.add({ lockerId, work }) as Promise<T>;
}

/** How many group transactions (more than one booking each) committed on this server, and how many bookings they held. */
export function bookingGroupStats(ctx: ServerContext): { groups: number; bookings: number; failedGroups: number } {
  const s = ctx.writers.bookings.stats();
  return { groups: s.groups, bookings: s.items, failedGroups: s.failedGroups };
}
