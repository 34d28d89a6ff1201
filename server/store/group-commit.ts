/**
 * Group commit: the writes that arrive in the same turn of the event loop (and those that queue while a commit is
 * in flight) go into one transaction, one durable commit for all of them. Every caller learns its outcome only
 * after the commit that holds its item, so nothing of it leaves the server before it is durable. A group takes its
 * lockers' rows in locker-id order (`compareIds`: one lock order for every writer, on Postgres); the sort is stable,
 * so one locker's items keep the order they came in. Measured in docs/performance.md.
 *
 * `plainGroupCommit`: `write` runs the whole group at once and returns one result per item (a result may itself be
 * a refusal: bookings, server/parcels/booking-group.ts). A group that fails as a whole is rolled back and each of its
 * items runs alone in its own transaction (with `alone` set), retried after a deadlock or a busy database: one bad
 * item fails only itself.
 *
 * A group that fails as a whole is reported to `onGroupFailed` (the server logs and counts it).
 */
import type { Transaction } from 'kysely';
import type { Db } from './database.js';
import { compareIds, retryTransaction } from './retry.js';
import type { Database } from './schema.js';

/** Every grouped item names the locker whose rows it writes: that orders the group. */
export interface LockerItem {
  readonly lockerId: string;
}

export interface GroupCommitOptions {
  db: Db;
  /** Most items in one transaction: bounds how long one commit holds the database. */
  maxGroup: number;
  /** A group's transaction failed as a whole (its items then run alone). */
  onGroupFailed(err: unknown, size: number): void;
}

/** What a queue has committed: transactions that held more than one item, the items in them, and groups that failed. */
export interface GroupStats {
  groups: number;
  items: number;
  failedGroups: number;
}

export interface GroupCommit<T extends LockerItem, R> {
  /** Queues `item`; resolves with its result once the transaction that holds it committed, or rejects. */
  add(item: T): Promise<R>;
  stats(): GroupStats;
}

type Trx = Transaction<Database>;

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/** Plain group commit: `write` gets the group's items in order and returns one result per item; `alone` is set on a retry. */
export function plainGroupCommit<T extends LockerItem, R>(o: GroupCommitOptions, write: (trx: Trx, items: readonly T[], alone: boolean) => Promise<R[]>): GroupCommit<T, R> {
  const pending: Pending<T, R>[] = [];
  const stats: GroupStats = { groups: 0, items: 0, failedGroups: 0 };
  let running = false;

  async function drain(): Promise<void> {
    try {
      while (pending.length) {
        const group = pending.splice(0, o.maxGroup).sort((a, b) => compareIds(a.item.lockerId, b.item.lockerId));
        let results: R[] | null = null;
        try {
          results = await o.db.transaction().execute((trx) =>
            write(
              trx,
              group.map((p) => p.item),
              false,
            ),
          );
          if (group.length > 1) {
            stats.groups++;
            stats.items += group.length;
          }
        } catch (err) {
          stats.failedGroups++;
          o.onGroupFailed(err, group.length);
        }
        if (results) {
          group.forEach((p, i) => p.resolve(results[i] as R));
        } else {
          // A group that failed as a whole: each item in its own transaction, retried.
          for (const p of group) {
            try {
              p.resolve(await retryTransaction(() => o.db.transaction().execute(async (trx) => (await write(trx, [p.item], true))[0] as R)));
            } catch (err) {
              p.reject(err);
            }
          }
        }
        // Let the socket reads and requests of this turn queue their items before the next group is taken.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      running = false;
    }
  }

  return {
    add(item) {
      const done = new Promise<R>((resolve, reject) => pending.push({ item, resolve, reject }));
      if (!running) {
        running = true;
        // After this turn's I/O callbacks: every item that came in with this one joins its group.
        setImmediate(() => void drain());
      }
      return done;
    },
    stats: () => ({ ...stats }),
  };
}
