/**
 * Device event batches, committed in groups (server/store/group-commit.ts, plain mode): the batches that arrived in
 * the same turn of the event loop (and those that queue while a commit is in flight) go into one transaction, one
 * fsync for all of them. On SQLite each batch's events go into one multi-row INSERT … ON CONFLICT DO NOTHING (with
 * RETURNING when the batch may repeat committed events); on Postgres, where each statement is a round trip, the
 * whole group's events go into one. Each `(lockerId, seq)` is applied once; every batch is acknowledged
 * only after the commit that holds it. A group that fails is retried batch by batch, so one bad batch fails only
 * itself (it is not acknowledged, and the locker sends it again). Measured in docs/performance.md (events).
 */
import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent, EventAckMessage, EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import type { ServerContext } from '../context.js';
import { hasDomainEffect } from '../parcels/device-effect-rules.js';
import { applyDeviceEvent } from '../parcels/device-effects.js';
import type { Database } from '../store/schema.js';
import { prepareQuery } from '../store/prepared-query.js';
import { plainGroupCommit, type GroupCommitOptions, type GroupStats } from '../store/group-commit.js';
import { releaseConfirmed } from '../desired-state/release-compartments.js';
import { UnitOfWork } from '../desired-state/unit-of-work.js';
import { eventColumns, pushEvent, takeFresh, writeGroupPg, type EventColumns } from './event-group-pg.js';

export interface BatchOutcome {
  applied: number;
  duplicates: number;
}

/** One batch as it waits for its group: its events in seq order. */
export interface EventBatch {
  lockerId: string;
  events: DeviceEvent[];
  receivedAt: number;
}

interface CommittedBatch {
  batch: EventBatch;
  outcome: BatchOutcome;
  /** What the batch's effects queued for after the commit (rare: a delta for a reconciled parcel). */
  uow: UnitOfWork;
}

/** The server's event-batch queue (ctx.writers.events), and what it knows of committed seqs. */
export interface EventWriter {
  /** Queues a batch; resolves once the transaction that holds it committed. */
  add(batch: EventBatch): Promise<CommittedBatch>;
  stats(): GroupStats;
  /** Per locker, the highest seq this process knows committed: a hint choosing the insert, never the truth. */
  readonly knownSeqs: Map<string, number>;
}

/** Most batches in one transaction: bounds how long one commit holds the database. */
export const MAX_EVENT_GROUP = 64;

/** Built once per server (createServer): a failed group is retried batch by batch, each taken as possibly repeated. */
export function createEventWriter(o: GroupCommitOptions, ctxOf: () => ServerContext): EventWriter {
  const knownSeqs = new Map<string, number>();
  const groups = plainGroupCommit<EventBatch, CommittedBatch>(o, (trx, group, alone) => applyGroup(ctxOf(), knownSeqs, trx, group, alone));
  return { add: (batch) => groups.add(batch), stats: () => groups.stats(), knownSeqs };
}

/** Applies a locker's batch with the others of its turn; resolves after its commit, once its ack is sent and its deltas published. */
export async function handleEventBatch(ctx: ServerContext, lockerId: string, batch: EventBatchMessage): Promise<BatchOutcome> {
  // In seq order, each seq once: a batch naming one seq twice has its first copy applied (its effects once).
  const events = [...batch.events].sort((a, b) => a.seq - b.seq).filter((e, i, all) => i === 0 || all[i - 1]!.seq !== e.seq);
  const committed = await ctx.writers.events.add({ lockerId, events, receivedAt: ctx.clock.now() });
  await finish(ctx, committed);
  return committed.outcome;
}

/** A type, not an interface: the helper takes records of primitives. */
type EventArgs = EventColumns & { lockerId: string; receivedAt: number };

/**
 * Each batch's events, one multi-row insert (compiled once per batch size). The arguments are columns of
 * primitives rather than one object per event: the helper derives the arguments' shape on every run, and
 * flat arrays make that cheaper.
 */
const insertRows = (db: Kysely<Database>, a: EventArgs) =>
  db
    .insertInto('device_events')
    .values(a.seq.map((seq, i) => ({ locker_id: a.lockerId, received_at: a.receivedAt, seq, event_id: a.id[i]!, boot_id: a.bootId[i]!, device_at: a.at[i]!, type: a.type[i]!, body: a.body[i]! })))
    .onConflict((oc) => oc.columns(['locker_id', 'seq']).doNothing());
/** For a batch that may repeat committed events: tells which seqs were new. */
const insertEvents = prepareQuery((db, a: EventArgs) => insertRows(db, a).returning('seq'));
/** For a batch past every seq known committed (the usual case): RETURNING was about a quarter of the insert's cost. */
const insertNewEvents = prepareQuery((db, a: EventArgs) => insertRows(db, a));

/** A batch taken for new found some of its events committed already: its group is retried batch by batch. */
class UnexpectedDuplicates extends Error {}

/** `last_seen_at` of the group's lockers: one statement per group. */
const touchLockers = prepareQuery((db, a: { at: number; ids: string[] }) => db.updateTable('lockers').set({ last_seen_at: a.at }).where('id', 'in', a.ids));

/** Those of the given lockers that have a cancelled parcel waiting for its compartment's release (usually none). */
const awaitingRelease = prepareQuery((db, a: { ids: string[] }) =>
  db.selectFrom('parcels').select('locker_id').distinct().where('locker_id', 'in', a.ids).where('status', '=', 'cancelled').where('release_version', 'is not', null),
);

/** A group's batches in one transaction: each batch's insert and effects, then once per group what is per locker. */
async function applyGroup(ctx: ServerContext, known: ReadonlyMap<string, number>, trx: Transaction<Database>, group: readonly EventBatch[], careful: boolean): Promise<CommittedBatch[]> {
  const out: CommittedBatch[] = [];
  let seenAt = 0;
  const lockers = new Set<string>();
  for (const b of group) {
    seenAt = Math.max(seenAt, b.receivedAt);
    lockers.add(b.lockerId);
  }
  if (group.length > 1 && trx.getExecutor().adapter instanceof PostgresAdapter) {
    // Postgres: the whole group in one statement (its events, the lockers seen, and, when no event can change a
    // parcel, which lockers wait for a release): one round trip instead of one per batch and two more per group.
    const effects = group.some((b) => b.events.some(hasDomainEffect));
    const written = await writeGroupPg(trx, group, { seenAt, lockers: [...lockers], checkWaiting: !effects });
    for (const item of group) out.push(await applyEffects(ctx, trx, item, takeFresh(written.fresh, item)));
    if (!effects) {
      for (const lockerId of written.waiting) await releaseConfirmed(trx, lockerId, seenAt);
      return out;
    }
  } else {
    // The lockers' rows first: another process's effects on these lockers (events after a reconnect, bookings) wait
    // for this commit instead of reading what this group is about to change. (On Postgres this path holds one
    // locker's batch: a larger group went through writeGroupPg, which locks its lockers in id order.)
    await touchLockers.run(trx, { at: seenAt, ids: [...lockers] });
    // Seqs inserted earlier in this group count as known (the same batch twice in one group).
    const inGroup = new Map<string, number>();
    for (const item of group) {
      const last = Math.max(known.get(item.lockerId) ?? 0, inGroup.get(item.lockerId) ?? 0);
      const mayRepeat = careful || !known.has(item.lockerId) || (item.events[0]?.seq ?? 0) <= last;
      out.push(await apply(ctx, trx, item, mayRepeat));
      inGroup.set(item.lockerId, Math.max(last, item.events.at(-1)?.seq ?? 0));
    }
  }
  const withFresh = new Set<string>();
  for (const c of out) if (c.outcome.applied) withFresh.add(c.batch.lockerId);
  if (withFresh.size) {
    // Usually none: one indexed look-up for the group instead of releaseConfirmed's checks for each locker.
    const waiting = await awaitingRelease.run(trx, { ids: [...withFresh] });
    for (const { locker_id } of waiting.rows) await releaseConfirmed(trx, locker_id, seenAt);
  }
  return out;
}

async function apply(ctx: ServerContext, trx: Transaction<Database>, batch: EventBatch, mayRepeat: boolean): Promise<CommittedBatch> {
  const { lockerId, events, receivedAt } = batch;
  const a = { lockerId, receivedAt, ...eventColumns() };
  for (const e of events) pushEvent(a, e);
  let fresh: Set<number>;
  if (mayRepeat) {
    const inserted = await insertEvents.run(trx, a);
    fresh = new Set(inserted.rows.map((r) => Number(r.seq)));
  } else {
    const inserted = await insertNewEvents.run(trx, a);
    // Another process committed some of them (or this one restarted): roll back, retry with RETURNING.
    if (Number(inserted.numAffectedRows ?? 0) !== events.length) throw new UnexpectedDuplicates();
    fresh = new Set(a.seq);
  }
  // The same batch twice in one group: the second copy finds its seqs inserted and counts them as duplicates.
  return applyEffects(ctx, trx, batch, fresh);
}

/** The domain effects of a batch's events that were new (`fresh`), in seq order, inside the group's transaction. */
async function applyEffects(ctx: ServerContext, trx: Transaction<Database>, batch: EventBatch, fresh: ReadonlySet<number>): Promise<CommittedBatch> {
  const { lockerId, events } = batch;
  const uow = new UnitOfWork(trx, ctx);
  for (const event of events) if (fresh.has(event.seq) && hasDomainEffect(event)) await applyDeviceEvent({ ctx, uow, lockerId }, event);
  return { batch, outcome: { applied: fresh.size, duplicates: events.length - fresh.size }, uow };
}

/**
 * After the commit: the ack goes out at once, but the batch does not wait for it to be delivered. Waiting held
 * the broker's handler slot until aedes had queued the ack behind every message already in its emitter; with
 * thousands of lockers sending, that queue, not the database, set the pace (docs/performance.md, events).
 * A lost ack costs a resend, answered as duplicates and acked again.
 */
async function finish(ctx: ServerContext, c: CommittedBatch): Promise<void> {
  const { lockerId, events, receivedAt } = c.batch;
  const known = ctx.writers.events.knownSeqs;
  const last = events.at(-1)?.seq ?? 0;
  if (last > (known.get(lockerId) ?? 0)) known.set(lockerId, last);
  ctx.stats.eventsApplied += c.outcome.applied;
  ctx.stats.eventsDuplicate += c.outcome.duplicates;
  ctx.bus.eventsCommitted({ lockerId, receivedAt, events, ...c.outcome });
  const ack: EventAckMessage = { v: PROTOCOL_VERSION, seqs: events.map((e) => e.seq), serverTime: ctx.clock.now() };
  // QoS 0 (docs/protocol.md, event ack): a lost ack costs a resend, answered again; QoS 1 cost a PUBACK per batch.
  ctx.link.publish(topics.eventsAck(lockerId), encode(ack), { qos: 0 }).catch((err: unknown) => ctx.log.warn({ err, lockerId }, 'event ack not published; the locker sends the batch again'));
  // Rare (a cancelled parcel deposited after all): deltas for the locker, published in order after the ack.
  await c.uow.committed();
}
