import type { Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { compareIds, retryTransaction } from '../store/retry.js';

/**
 * Small device writes (heartbeats, state reports) grouped into one transaction per turn of the event loop: the
 * items that arrive in the same turn, and those that queue while a commit is in flight, share one durable
 * commit. Each was one commit (one fsync) before, which bounded a large fleet (docs/performance.md). A group that
 * fails is retried item by item, so one bad item fails only itself: its promise rejects, the others resolve.
 * A group writes its lockers' rows in locker-id order (one lock order for every group, on Postgres), and an item
 * retried alone is retried again after a deadlock or a busy database, like a booking.
 */
export interface TurnGroups<T, R> {
  /** Queues `item`; resolves with what `write` returned for it once its transaction committed. */
  add(ctx: ServerContext, item: T): Promise<R>;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Queue<T, R> {
  pending: Pending<T, R>[];
  running: boolean;
}

/** `write` runs a group's items in one transaction and returns one result per item, in order. */
export function turnGroups<T extends { lockerId: string }, R>(maxGroup: number, write: (ctx: ServerContext, trx: Transaction<Database>, items: readonly T[]) => Promise<R[]>): TurnGroups<T, R> {
  const queues = new WeakMap<ServerContext, Queue<T, R>>();

  async function flush(ctx: ServerContext, q: Queue<T, R>): Promise<void> {
    try {
      while (q.pending.length) {
        // Stable: one locker's items keep the order they came in.
        const group = q.pending.splice(0, maxGroup).sort((a, b) => compareIds(a.item.lockerId, b.item.lockerId));
        try {
          const results = await ctx.db.transaction().execute((trx) => write(ctx, trx, group.map((p) => p.item)));
          group.forEach((p, i) => p.resolve(results[i] as R));
        } catch {
          for (const p of group) {
            try {
              const [one] = await retryTransaction(() => ctx.db.transaction().execute((trx) => write(ctx, trx, [p.item])));
              p.resolve(one as R);
            } catch (err) {
              p.reject(err);
            }
          }
        }
        // Let this turn's socket reads queue their items before the next group is taken.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      q.running = false;
    }
  }

  return {
    add(ctx, item) {
      let q = queues.get(ctx);
      if (!q) queues.set(ctx, (q = { pending: [], running: false }));
      const queue = q;
      const done = new Promise<R>((resolve, reject) => queue.pending.push({ item, resolve, reject }));
      if (!queue.running) {
        queue.running = true;
        // After this turn's I/O callbacks: every item read in this turn joins the same commit.
        setImmediate(() => void flush(ctx, queue));
      }
      return done;
    },
  };
}
