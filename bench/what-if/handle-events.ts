/**
 * What-if replacement for server/sync/handle-events.ts (patch "group-commit"), the change proposed in
 * docs/performance.md: batches that arrive while a commit is in flight wait and are committed together, in one
 * transaction (one fsync), and each batch's events go in with one multi-row INSERT … ON CONFLICT DO NOTHING
 * RETURNING instead of one statement per event. Every batch is still acknowledged only after its commit; if a
 * group fails, each of its batches is retried in a transaction of its own, so one bad batch fails only itself.
 */
import type { Transaction } from 'kysely';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent, EventAckMessage, EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import type { ServerContext } from '../../server/context.js';
import { applyDeviceEvent } from '../../server/parcels/device-effects.js';
import type { Database } from '../../server/store/schema.js';
import { releaseConfirmed } from '../../server/sync/release-compartments.js';

/** Marks this module as the what-if replacement (test/bench checks that the hooks load it). */
export const WHAT_IF_REPLACEMENT = true;

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
        committed = await ctx.db.transaction().execute(async (trx) => {
          const out: Committed[] = [];
          for (const item of group) out.push(await apply(ctx, trx, item));
          return out;
        });
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
          const one = await ctx.db.transaction().execute((trx) => apply(ctx, trx, item));
          void finish(ctx, one);
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

async function apply(ctx: ServerContext, trx: Transaction<Database>, item: Pending): Promise<Committed> {
  const { lockerId, events, receivedAt } = item;
  const afterCommit: (() => Promise<void>)[] = [];
  const inserted = await trx
    .insertInto('device_events')
    .values(
      events.map((event) => ({
        locker_id: lockerId,
        seq: event.seq,
        event_id: event.id,
        boot_id: event.bootId,
        device_at: event.at,
        received_at: receivedAt,
        type: event.type,
        body: JSON.stringify(event),
      })),
    )
    .onConflict((oc) => oc.columns(['locker_id', 'seq']).doNothing())
    .returning('seq')
    .execute();
  const fresh = new Set(inserted.map((r) => r.seq));
  // The same batch twice in one group: the second copy finds its seqs inserted and counts them as duplicates.
  for (const event of events) if (fresh.has(event.seq)) await applyDeviceEvent({ ctx, trx, lockerId, afterCommit }, event);
  await trx.updateTable('lockers').set({ last_seen_at: receivedAt }).where('id', '=', lockerId).execute();
  if (fresh.size) await releaseConfirmed(trx, lockerId, receivedAt);
  return { item, outcome: { applied: fresh.size, duplicates: events.length - fresh.size }, afterCommit };
}

async function finish(ctx: ServerContext, c: Committed): Promise<void> {
  const { lockerId, events, receivedAt } = c.item;
  ctx.stats.eventsApplied += c.outcome.applied;
  ctx.stats.eventsDuplicate += c.outcome.duplicates;
  ctx.bus.eventsCommitted({ lockerId, receivedAt, events, ...c.outcome });
  try {
    const ack: EventAckMessage = { v: PROTOCOL_VERSION, seqs: events.map((e) => e.seq), serverTime: ctx.clock.now() };
    await ctx.link.publish(topics.eventsAck(lockerId), encode(ack), { qos: 1 });
    for (const run of c.afterCommit) {
      await run().catch((err: unknown) => ctx.log.warn({ err, lockerId }, 'post-commit publish failed; the next snapshot carries it'));
    }
    c.item.resolve(c.outcome);
  } catch (err) {
    c.item.reject(err);
  }
}
