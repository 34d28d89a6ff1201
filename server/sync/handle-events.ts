/**
 * Device event batches, committed in groups: the batches that arrived in the same turn of the event loop (and
 * those that queue while a commit is in flight) go into one transaction, one fsync for all of them, and each
 * batch's events into one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING. Each `(lockerId, seq)` is applied
 * once; every batch is acknowledged only after the commit that holds it. A group that fails is retried batch by
 * batch, so one bad batch fails only itself (it is not acknowledged, and the locker sends it again).
 * Measured in docs/performance.md (events): about 4 × the throughput of one transaction per batch.
 */
import type { Transaction } from 'kysely';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent, EventAckMessage, EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import type { ServerContext } from '../context.js';
import { applyDeviceEvent, hasDomainEffect } from '../parcels/device-effects.js';
import type { Database } from '../store/schema.js';
import { PositionalQuery } from './positional-query.js';
import { releaseConfirmed } from './release-compartments.js';

export interface BatchOutcome {
  applied: number;
  duplicates: number;
}

interface Pending {
  lockerId: string;
  events: DeviceEvent[];
  receivedAt: number;
  resolve: (o: BatchOutcome) => void;
  reject: (e: unknown) => void;
}

interface Committed {
  item: Pending;
  outcome: BatchOutcome;
  afterCommit: (() => Promise<void>)[];
}

/** Most batches in one transaction: bounds how long one commit holds the database. */
const MAX_GROUP = 64;
const queues = new WeakMap<ServerContext, { pending: Pending[]; running: boolean }>();

export function handleEventBatch(ctx: ServerContext, lockerId: string, batch: EventBatchMessage): Promise<BatchOutcome> {
  let q = queues.get(ctx);
  if (!q) queues.set(ctx, (q = { pending: [], running: false }));
  const events = [...batch.events].sort((a, b) => a.seq - b.seq);
  const queue = q;
  const done = new Promise<BatchOutcome>((resolve, reject) => queue.pending.push({ lockerId, events, receivedAt: ctx.clock.now(), resolve, reject }));
  if (!q.running) {
    q.running = true;
    // Start after this turn's I/O callbacks: every batch that came in with this one joins its group.
    setImmediate(() => void drain(ctx, queue));
  }
  return done;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function drain(ctx: ServerContext, q: { pending: Pending[]; running: boolean }): Promise<void> {
  try {
    while (q.pending.length) {
      const group = q.pending.splice(0, MAX_GROUP);
      let committed: Committed[] | null = null;
      try {
        committed = await ctx.db.transaction().execute((trx) => applyGroup(ctx, trx, group));
      } catch {
        committed = null;
      }
      if (committed) {
        for (const c of committed) void finish(ctx, c);
        // Let the socket reads of this turn queue their batches before the next group is taken.
        await nextTurn();
        continue;
      }
      for (const item of group) {
        try {
          const [one] = await ctx.db.transaction().execute((trx) => applyGroup(ctx, trx, [item]));
          if (one) void finish(ctx, one);
        } catch (err) {
          item.reject(err);
        }
      }
      await nextTurn();
    }
  } finally {
    q.running = false;
  }
}

/** Arguments 0 and 1 are the locker and the time received, then 6 per event (see `apply`). */
const ARGS_PER_EVENT = 6;
/** Per batch size: each batch's events in one multi-row insert. */
const insertEvents = new Map<number, PositionalQuery<{ seq: number }>>();
/** Per number of lockers: `last_seen_at` of the group's lockers, one statement per group. */
const touchLockers = new Map<number, PositionalQuery<unknown>>();
/** Per number of lockers: those that have a cancelled parcel waiting for its compartment's release (usually none). */
const awaitingRelease = new Map<number, PositionalQuery<{ locker_id: string }>>();

function sized<R>(cache: Map<number, PositionalQuery<R>>, n: number, make: (n: number) => PositionalQuery<R>): PositionalQuery<R> {
  let q = cache.get(n);
  if (!q) cache.set(n, (q = make(n)));
  return q;
}

const insertFor = (n: number) =>
  new PositionalQuery<{ seq: number }>(2 + n * ARGS_PER_EVENT, (db, p) =>
    db
      .insertInto('device_events')
      .values(
        Array.from({ length: n }, (_, i) => {
          const a = 2 + i * ARGS_PER_EVENT;
          return { locker_id: p(0), received_at: p(1), seq: p(a), event_id: p(a + 1), boot_id: p(a + 2), device_at: p(a + 3), type: p(a + 4), body: p(a + 5) };
        }),
      )
      .onConflict((oc) => oc.columns(['locker_id', 'seq']).doNothing())
      .returning('seq'),
  );

const touchFor = (n: number) =>
  new PositionalQuery<unknown>(n + 1, (db, p) => db.updateTable('lockers').set({ last_seen_at: p(0) }).where('id', 'in', Array.from({ length: n }, (_, i) => p(i + 1))));

const awaitingFor = (n: number) =>
  new PositionalQuery<{ locker_id: string }>(n, (db, p) =>
    db
      .selectFrom('parcels')
      .select('locker_id')
      .distinct()
      .where('locker_id', 'in', Array.from({ length: n }, (_, i) => p(i)))
      .where('status', '=', 'cancelled')
      .where('release_version', 'is not', null),
  );

/** A group's batches in one transaction: each batch's insert and effects, then once per group what is per locker. */
async function applyGroup(ctx: ServerContext, trx: Transaction<Database>, group: readonly Pending[]): Promise<Committed[]> {
  const out: Committed[] = [];
  for (const item of group) out.push(await apply(ctx, trx, item));
  let seenAt = 0;
  const lockers = new Set<string>();
  const withFresh = new Set<string>();
  for (const c of out) {
    seenAt = Math.max(seenAt, c.item.receivedAt);
    lockers.add(c.item.lockerId);
    if (c.outcome.applied) withFresh.add(c.item.lockerId);
  }
  await sized(touchLockers, lockers.size, touchFor).run(trx, [seenAt, ...lockers]);
  if (withFresh.size) {
    // Usually none: one indexed look-up for the group instead of releaseConfirmed's checks for each locker.
    const waiting = await sized(awaitingRelease, withFresh.size, awaitingFor).run(trx, [...withFresh]);
    for (const { locker_id } of waiting.rows) await releaseConfirmed(trx, locker_id, seenAt);
  }
  return out;
}

async function apply(ctx: ServerContext, trx: Transaction<Database>, item: Pending): Promise<Committed> {
  const { lockerId, events, receivedAt } = item;
  const afterCommit: (() => Promise<void>)[] = [];
  const args: unknown[] = [lockerId, receivedAt];
  for (const e of events) args.push(e.seq, e.id, e.bootId, e.at, e.type, JSON.stringify(e));
  const inserted = await sized(insertEvents, events.length, insertFor).run(trx, args);
  const fresh = new Set(inserted.rows.map((r) => Number(r.seq)));
  // The same batch twice in one group: the second copy finds its seqs inserted and counts them as duplicates.
  for (const event of events) if (fresh.has(event.seq) && hasDomainEffect(event)) await applyDeviceEvent({ ctx, trx, lockerId, afterCommit }, event);
  return { item, outcome: { applied: fresh.size, duplicates: events.length - fresh.size }, afterCommit };
}

/**
 * After the commit: the ack goes out at once, but the batch does not wait for it to be delivered. Waiting held
 * the broker's handler slot until aedes had queued the ack behind every message already in its emitter; with
 * thousands of lockers sending, that queue, not the database, set the pace (docs/performance.md, events).
 * A lost ack costs a resend, answered as duplicates and acked again.
 */
async function finish(ctx: ServerContext, c: Committed): Promise<void> {
  const { lockerId, events, receivedAt } = c.item;
  ctx.stats.eventsApplied += c.outcome.applied;
  ctx.stats.eventsDuplicate += c.outcome.duplicates;
  ctx.bus.eventsCommitted({ lockerId, receivedAt, events, ...c.outcome });
  const ack: EventAckMessage = { v: PROTOCOL_VERSION, seqs: events.map((e) => e.seq), serverTime: ctx.clock.now() };
  ctx.link.publish(topics.eventsAck(lockerId), encode(ack), { qos: 1 }).catch((err: unknown) => ctx.log.warn({ err, lockerId }, 'event ack not published; the locker sends the batch again'));
  // Rare (a cancelled parcel deposited after all): deltas for the locker, published in order after the ack.
  for (const run of c.afterCommit) {
    await run().catch((err: unknown) => ctx.log.warn({ err, lockerId }, 'post-commit publish failed; the next snapshot carries it'));
  }
  c.item.resolve(c.outcome);
}
