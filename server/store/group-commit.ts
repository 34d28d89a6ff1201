/**
 * Group commit: the writes that arrive in the same turn of the event loop (and those that queue while a commit is
 * in flight) go into one transaction, one durable commit for all of them. Every caller learns its outcome only
 * after the commit that holds its item, so nothing of it leaves the server before it is durable. A group takes its
 * lockers' rows in locker-id order (`compareIds`: one lock order for every writer, on Postgres); the sort is stable,
 * so one locker's items keep the order they came in. Measured in docs/performance.md.
 *
 * Two modes:
 * - plain (`plainGroupCommit`): `write` runs the whole group at once and returns one result per item. A group that
 *   fails as a whole is rolled back and each of its items runs alone in its own transaction (with `alone` set),
 *   retried after a deadlock or a busy database: one bad item fails only itself.
 * - savepoint (`savepointGroupCommit`): each item runs inside its own savepoint. An item that fails rolls back only
 *   its savepoint and rejects; the others commit. A group the database aborts as a whole (a retryable error, a failed
 *   commit) runs again item by item, each in its own transaction, retried.
 *
 * A group that fails as a whole is reported to `onGroupFailed` (the server logs and counts it).
 */
import type { Transaction } from 'kysely';
import type { Db } from './database.js';
import { compareIds, isRetryableTransactionError, retryTransaction } from './retry.js';
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

type Outcome<R> = { ok: true; value: R } | { ok: false; err: unknown };

/** Runs a sorted group in one transaction, returning each item's outcome; throws when the group failed as a whole. */
type RunGroup<T, R> = (db: Db, items: readonly T[]) => Promise<Outcome<R>[]>;

/** Plain mode: `write` gets the group's items in order and returns one result per item; `alone` is set on a retry. */
export function plainGroupCommit<T extends LockerItem, R>(o: GroupCommitOptions, write: (trx: Trx, items: readonly T[], alone: boolean) => Promise<R[]>): GroupCommit<T, R> {
  return groupCommit<T, R>(
    o,
    async (db, items) => {
      const results = await db.transaction().execute((trx) => write(trx, items, false));
      return results.map((value) => ({ ok: true, value }));
    },
    async (trx, item) => {
      const [one] = await write(trx, [item], true);
      return one as R;
    },
    true,
  );
}

const SAVEPOINT = 'item';

/** Savepoint mode: `write` runs one item; a refused item rolls back only its own savepoint. */
export function savepointGroupCommit<T extends LockerItem, R>(o: GroupCommitOptions, write: (trx: Trx, item: T) => Promise<R>): GroupCommit<T, R> {
  return groupCommit<T, R>(o, (db, items) => inSavepoints(db, items, write), write, false);
}

function groupCommit<T extends LockerItem, R>(o: GroupCommitOptions, runGroup: RunGroup<T, R>, writeAlone: (trx: Trx, item: T) => Promise<R>, groupOfOne: boolean): GroupCommit<T, R> {
  const pending: Pending<T, R>[] = [];
  const stats: GroupStats = { groups: 0, items: 0, failedGroups: 0 };
  let running = false;

  async function drain(): Promise<void> {
    try {
      while (pending.length) {
        const group = pending.splice(0, o.maxGroup).sort((a, b) => compareIds(a.item.lockerId, b.item.lockerId));
        let outcomes: Outcome<R>[] | null = null;
        if (group.length > 1 || groupOfOne) {
          try {
            outcomes = await runGroup(
              o.db,
              group.map((p) => p.item),
            );
            if (group.length > 1) {
              stats.groups++;
              stats.items += group.length;
            }
          } catch (err) {
            stats.failedGroups++;
            o.onGroupFailed(err, group.length);
          }
        }
        if (outcomes) {
          group.forEach((p, i) => {
            const out = outcomes[i] as Outcome<R>;
            if (out.ok) p.resolve(out.value);
            else p.reject(out.err);
          });
        } else {
          // One item alone, or a group that failed as a whole: each in its own transaction, retried.
          for (const p of group) {
            try {
              p.resolve(await retryTransaction(() => o.db.transaction().execute((trx) => writeAlone(trx, p.item))));
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

/** The group in one transaction, a savepoint per item; throws when the transaction as a whole failed. */
async function inSavepoints<T, R>(db: Db, items: readonly T[], write: (trx: Trx, item: T) => Promise<R>): Promise<Outcome<R>[]> {
  const trx = await db.startTransaction().execute();
  const outcomes: Outcome<R>[] = [];
  try {
    for (const item of items) {
      const inner = await trx.savepoint(SAVEPOINT).execute();
      try {
        const value = await write(inner, item);
        await inner.releaseSavepoint(SAVEPOINT).execute();
        outcomes.push({ ok: true, value });
      } catch (err) {
        // Aborted by the database (deadlock, busy): the whole group runs again, item by item.
        if (isRetryableTransactionError(err)) throw err;
        await inner.rollbackToSavepoint(SAVEPOINT).execute();
        outcomes.push({ ok: false, err });
      }
    }
    await trx.commit().execute();
    return outcomes;
  } catch (err) {
    if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute().catch(() => undefined);
    throw err;
  }
}
