import { encode } from '../../shared/codec.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { hasDomainEffect } from '../parcels/device-effect-rules.js';
import { applyDeviceEvent } from '../parcels/device-effects.js';
import { prepareQuery } from '../store/prepared-query.js';
import { plainGroupCommit } from '../store/group-commit.js';
import { releaseConfirmed } from '../desired-state/release-compartments.js';
import { UnitOfWork } from '../desired-state/unit-of-work.js';
/** Most batches in one transaction: bounds how long one commit holds the database. */
export const MAX_EVENT_GROUP = 64;
/** Built once per server (createServer): a failed group is retried batch by batch, each taken as possibly repeated. */
export function createEventWriter(o, ctxOf) {
    const knownSeqs = new Map();
    const groups = plainGroupCommit(o, (trx, group, alone) => applyGroup(ctxOf(), knownSeqs, trx, group, alone));
    return { add: (batch) => groups.add(batch), stats: () => groups.stats(), knownSeqs };
}
/** Applies a locker's batch with the others of its turn; resolves after its commit, once its ack is sent and its deltas published. */
export async function handleEventBatch(ctx, lockerId, batch) {
    const events = [...batch.events].sort((a, b) => a.seq - b.seq);
    const committed = await ctx.writers.events.add({ lockerId, events, receivedAt: ctx.clock.now() });
    await finish(ctx, committed);
    return committed.outcome;
}
/**
 * Each batch's events, one multi-row insert (compiled once per batch size). The arguments are columns of
 * primitives rather than one object per event: the helper derives the arguments' shape on every run, and
 * flat arrays make that cheaper.
 */
const insertRows = (db, a) => db
    .insertInto('device_events')
    .values(a.seq.map((seq, i) => ({ locker_id: a.lockerId, received_at: a.receivedAt, seq, event_id: a.id[i], boot_id: a.bootId[i], device_at: a.at[i], type: a.type[i], body: a.body[i] })))
    .onConflict((oc) => oc.columns(['locker_id', 'seq']).doNothing());
/** For a batch that may repeat committed events: tells which seqs were new. */
const insertEvents = prepareQuery((db, a) => insertRows(db, a).returning('seq'));
/** For a batch past every seq known committed (the usual case): RETURNING was about a quarter of the insert's cost. */
const insertNewEvents = prepareQuery((db, a) => insertRows(db, a));
/** A batch taken for new found some of its events committed already: its group is retried batch by batch. */
class UnexpectedDuplicates extends Error {
}
/** `last_seen_at` of the group's lockers: one statement per group. */
const touchLockers = prepareQuery((db, a) => db.updateTable('lockers').set({ last_seen_at: a.at }).where('id', 'in', a.ids));
/** Those of the given lockers that have a cancelled parcel waiting for its compartment's release (usually none). */
const awaitingRelease = prepareQuery((db, a) => db.selectFrom('parcels').select('locker_id').distinct().where('locker_id', 'in', a.ids).where('status', '=', 'cancelled').where('release_version', 'is not', null));
/** A group's batches in one transaction: each batch's insert and effects, then once per group what is per locker. */
async function applyGroup(ctx, known, trx, group, careful) {
    const out = [];
    // Seqs inserted earlier in this group count as known (the same batch twice in one group).
    const inGroup = new Map();
    for (const item of group) {
        const last = Math.max(known.get(item.lockerId) ?? 0, inGroup.get(item.lockerId) ?? 0);
        const mayRepeat = careful || !known.has(item.lockerId) || (item.events[0]?.seq ?? 0) <= last;
        out.push(await apply(ctx, trx, item, mayRepeat));
        inGroup.set(item.lockerId, Math.max(last, item.events.at(-1)?.seq ?? 0));
    }
    let seenAt = 0;
    const lockers = new Set();
    const withFresh = new Set();
    for (const c of out) {
        seenAt = Math.max(seenAt, c.batch.receivedAt);
        lockers.add(c.batch.lockerId);
        if (c.outcome.applied)
            withFresh.add(c.batch.lockerId);
    }
    await touchLockers.run(trx, { at: seenAt, ids: [...lockers] });
    if (withFresh.size) {
        // Usually none: one indexed look-up for the group instead of releaseConfirmed's checks for each locker.
        const waiting = await awaitingRelease.run(trx, { ids: [...withFresh] });
        for (const { locker_id } of waiting.rows)
            await releaseConfirmed(trx, locker_id, seenAt);
    }
    return out;
}
async function apply(ctx, trx, batch, mayRepeat) {
    const { lockerId, events, receivedAt } = batch;
    const uow = new UnitOfWork(trx, ctx);
    const a = { lockerId, receivedAt, seq: [], id: [], bootId: [], at: [], type: [], body: [] };
    for (const e of events) {
        a.seq.push(e.seq);
        a.id.push(e.id);
        a.bootId.push(e.bootId);
        a.at.push(e.at);
        a.type.push(e.type);
        a.body.push(JSON.stringify(e));
    }
    let fresh;
    if (mayRepeat) {
        const inserted = await insertEvents.run(trx, a);
        fresh = new Set(inserted.rows.map((r) => Number(r.seq)));
    }
    else {
        const inserted = await insertNewEvents.run(trx, a);
        // Another process committed some of them (or this one restarted): roll back, retry with RETURNING.
        if (Number(inserted.numAffectedRows ?? 0) !== events.length)
            throw new UnexpectedDuplicates();
        fresh = new Set(a.seq);
    }
    // The same batch twice in one group: the second copy finds its seqs inserted and counts them as duplicates.
    for (const event of events)
        if (fresh.has(event.seq) && hasDomainEffect(event))
            await applyDeviceEvent({ ctx, uow, lockerId }, event);
    return { batch, outcome: { applied: fresh.size, duplicates: events.length - fresh.size }, uow };
}
/**
 * After the commit: the ack goes out at once, but the batch does not wait for it to be delivered. Waiting held
 * the broker's handler slot until aedes had queued the ack behind every message already in its emitter; with
 * thousands of lockers sending, that queue, not the database, set the pace (docs/performance.md, events).
 * A lost ack costs a resend, answered as duplicates and acked again.
 */
async function finish(ctx, c) {
    const { lockerId, events, receivedAt } = c.batch;
    const known = ctx.writers.events.knownSeqs;
    const last = events.at(-1)?.seq ?? 0;
    if (last > (known.get(lockerId) ?? 0))
        known.set(lockerId, last);
    ctx.stats.eventsApplied += c.outcome.applied;
    ctx.stats.eventsDuplicate += c.outcome.duplicates;
    ctx.bus.eventsCommitted({ lockerId, receivedAt, events, ...c.outcome });
    const ack = { v: PROTOCOL_VERSION, seqs: events.map((e) => e.seq), serverTime: ctx.clock.now() };
    ctx.link.publish(topics.eventsAck(lockerId), encode(ack), { qos: 1 }).catch((err) => ctx.log.warn({ err, lockerId }, 'event ack not published; the locker sends the batch again'));
    // Rare (a cancelled parcel deposited after all): deltas for the locker, published in order after the ack.
    await c.uow.committed();
}
//# sourceMappingURL=handle-events.js.map