/**
 * Group commit for bookings: the bookings that arrive in the same turn of the event loop (and those that queue
 * while a commit is in flight) run in one transaction, one durable commit for all of them, each booking inside
 * its own savepoint. A refused booking (full locker, unknown locker, a failing statement) rolls back only its
 * savepoint; the others commit. Every caller learns its outcome only after the commit that holds it, so nothing
 * of a booking (its grants, its PIN) leaves the server before it is durable.
 *
 * A group the database aborts as a whole (a Postgres deadlock or serialisation failure, SQLITE_BUSY, a failed
 * commit) is rolled back and each of its bookings runs again in its own transaction, retried as before.
 */
import type { Transaction } from 'kysely';
import type { Db } from '../store/database.js';
import { compareIds, isRetryableTransactionError, retryTransaction } from '../store/retry.js';
import type { Database } from '../store/schema.js';

/** One booking's work: every statement it runs goes through `trx`; it may run more than once (a retry). */
export type GroupWork<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  /**
   * Bookings run in the order of their locker, as every group takes locker rows (fewer deadlocks on Postgres); a
   * deadlock with another writer aborts the group, and each of its bookings runs again with retries.
   */
  lockerId: string;
  work: GroupWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Most bookings in one transaction: bounds how long one commit holds the database. */
const MAX_GROUP = 64;
const SAVEPOINT = 'booking';

interface Queue {
  pending: Pending[];
  running: boolean;
  /** Transactions committed with more than one booking, and the bookings they held (for tests and metrics). */
  groups: number;
  grouped: number;
}

const queues = new WeakMap<Db, Queue>();

/** Runs `work` (a booking into `lockerId`) in the next group transaction of `db`; resolves once that committed. */
export function inBookingGroup<T>(db: Db, lockerId: string, work: GroupWork<T>): Promise<T> {
  let q = queues.get(db);
  if (!q) queues.set(db, (q = { pending: [], running: false, groups: 0, grouped: 0 }));
  const queue = q;
  const done = new Promise<T>((resolve, reject) => queue.pending.push({ lockerId, work, resolve: resolve as (v: unknown) => void, reject }));
  if (!queue.running) {
    queue.running = true;
    // Start after this turn's I/O callbacks: every booking that came in with this one joins its group.
    setImmediate(() => void drain(db, queue));
  }
  return done;
}

/** How many group transactions committed on `db`, and how many bookings they held. */
export function bookingGroupStats(db: Db): { groups: number; bookings: number } {
  const q = queues.get(db);
  return { groups: q?.groups ?? 0, bookings: q?.grouped ?? 0 };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function drain(db: Db, q: Queue): Promise<void> {
  try {
    while (q.pending.length) {
      const group = q.pending.splice(0, MAX_GROUP);
      const outcomes = group.length > 1 ? await runGroup(db, group) : null;
      if (outcomes) {
        q.groups++;
        q.grouped += group.length;
        group.forEach((item, i) => {
          const o = outcomes[i] as Outcome;
          if (o.ok) item.resolve(o.value);
          else item.reject(o.err);
        });
      } else {
        // One booking alone, or a group the database aborted as a whole: each in its own transaction.
        for (const item of group) {
          try {
            item.resolve(await retryTransaction(() => db.transaction().execute(item.work)));
          } catch (err) {
            item.reject(err);
          }
        }
      }
      // Let the requests read in this turn queue their bookings before the next group is taken.
      await nextTurn();
    }
  } finally {
    q.running = false;
  }
}

/** The group in one transaction, a savepoint per booking; null when the transaction as a whole failed. */
async function runGroup(db: Db, group: readonly Pending[]): Promise<Outcome[] | null> {
  let trx;
  try {
    trx = await db.startTransaction().execute();
  } catch {
    return null;
  }
  const outcomes: Outcome[] = new Array<Outcome>(group.length);
  const order = group.map((_, i) => i).sort((x, y) => compareIds((group[x] as Pending).lockerId, (group[y] as Pending).lockerId) || x - y);
  try {
    for (const i of order) {
      const item = group[i] as Pending;
      const inner = await trx.savepoint(SAVEPOINT).execute();
      try {
        const value = await item.work(inner);
        await inner.releaseSavepoint(SAVEPOINT).execute();
        outcomes[i] = { ok: true, value };
      } catch (err) {
        // Aborted by the database (deadlock, busy): the whole group runs again, booking by booking.
        if (isRetryableTransactionError(err)) throw err;
        await inner.rollbackToSavepoint(SAVEPOINT).execute();
        outcomes[i] = { ok: false, err };
      }
    }
    await trx.commit().execute();
    return outcomes;
  } catch {
    if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute().catch(() => undefined);
    return null;
  }
}
