/**
 * What-if replacement for server/sync/device-router.ts (patch "heartbeat-batch"), the change proposed in
 * docs/performance.md: the same router, but heartbeats that arrive while a heartbeat commit is in flight are
 * recorded together in the next transaction (one fsync for all of them) instead of one durable commit each.
 * A fleet's heartbeats are otherwise lockers / interval commits per second, each waiting for the disk.
 */
import { decoderFor } from '../../shared/codec.js';
import {
  EventBatchMessage,
  HeartbeatMessage,
  StateGetMessage,
  StateReportedMessage,
  StatusMessage,
} from '../../shared/messages.js';
import { parseTopic, SERVER_SUBSCRIPTIONS } from '../../shared/topics.js';
import type { ServerContext } from '../../server/context.js';
import { handleEventBatch } from '../../server/sync/handle-events.js';
import { publishSnapshot } from '../../server/sync/desired-state.js';
import { releaseConfirmed } from '../../server/sync/release-compartments.js';
import { resendPending } from '../../server/commands/commands.js';

/** Marks this module as the what-if replacement (test/bench checks that the hooks load it). */
export const WHAT_IF_REPLACEMENT = true;

const decode = {
  status: decoderFor(StatusMessage),
  heartbeat: decoderFor(HeartbeatMessage),
  events: decoderFor(EventBatchMessage),
  stateGet: decoderFor(StateGetMessage),
  stateReported: decoderFor(StateReportedMessage),
};

/**
 * Handles one message from a device: one case per topic, dispatched from one switch. Invalid payloads are
 * counted and logged, and change nothing. Never throws.
 */
export async function handleDeviceMessage(ctx: ServerContext, topic: string, payload: Buffer): Promise<void> {
  const parsed = parseTopic(topic);
  if (!parsed) {
    reject(ctx, 'UNKNOWN_TOPIC', topic);
    return;
  }
  const { lockerId, kind } = parsed;
  try {
    switch (kind) {
      case 'status': {
        const m = decode.status(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await ctx.db
          .updateTable('lockers')
          .set({ online: m.value.state === 'online' ? 1 : 0, boot_id: m.value.bootId, last_seen_at: ctx.clock.now() })
          .where('id', '=', lockerId)
          .execute();
        // Back online: every command still waiting for a result goes again (the device runs each id once).
        if (m.value.state === 'online') await resendPending(ctx, lockerId);
        return;
      }
      case 'heartbeat': {
        const m = decode.heartbeat(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        const desired = await recordHeartbeat(ctx, lockerId);
        // A locker that stayed behind (a lost delta, a state message it could not apply) catches up now.
        if (desired !== undefined && m.value.appliedVersion < desired) await publishSnapshot(ctx, lockerId);
        return;
      }
      case 'events': {
        const m = decode.events(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await handleEventBatch(ctx, lockerId, m.value);
        return;
      }
      case 'state/get': {
        const m = decode.stateGet(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await publishSnapshot(ctx, lockerId);
        return;
      }
      case 'state/reported': {
        const m = decode.stateReported(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        const { version, lastSeq } = m.value;
        const now = ctx.clock.now();
        await ctx.db.transaction().execute(async (trx) => {
          // Reports may arrive out of order: an older one never moves the record back.
          await trx.updateTable('lockers').set({ reported_version: version, reported_seq: lastSeq, last_seen_at: now }).where('id', '=', lockerId).where('reported_version', '<=', version).execute();
          await releaseConfirmed(trx, lockerId, now);
        });
        return;
      }
      default:
        // Server → device topics echoed back, or a kind the server does not read.
        return reject(ctx, 'UNEXPECTED_TOPIC', topic);
    }
  } catch (err) {
    // A failed commit acknowledges nothing: the device resends, so nothing is lost.
    ctx.stats.reject('HANDLER_FAILED');
    ctx.log.error({ err, lockerId, kind }, 'device message handler failed');
  }
}

function reject(ctx: ServerContext, code: string, topic: string, detail?: string): void {
  ctx.stats.reject(code);
  ctx.log.warn({ code, topic, detail }, 'device message rejected');
}

/** Subscribes the server to every device topic. */
export async function subscribeDeviceTopics(ctx: ServerContext): Promise<void> {
  for (const filter of SERVER_SUBSCRIPTIONS) {
    await ctx.link.subscribe(filter, (topic, payload) => handleDeviceMessage(ctx, topic, payload));
  }
}

interface Beat {
  waiters: ((desired: number | undefined) => void)[];
}

const beats = new WeakMap<ServerContext, { pending: Map<string, Beat>; running: boolean }>();

/** Records that `lockerId` was seen now, with the heartbeats queued meanwhile; resolves with its desired version. */
function recordHeartbeat(ctx: ServerContext, lockerId: string): Promise<number | undefined> {
  let q = beats.get(ctx);
  if (!q) beats.set(ctx, (q = { pending: new Map(), running: false }));
  const queue = q;
  const done = new Promise<number | undefined>((resolve) => {
    const beat = queue.pending.get(lockerId) ?? { waiters: [] };
    beat.waiters.push(resolve);
    queue.pending.set(lockerId, beat);
  });
  if (!queue.running) {
    queue.running = true;
    // After this turn's I/O callbacks: every heartbeat read in this turn joins the same commit.
    setImmediate(() => void flushHeartbeats(ctx, queue));
  }
  return done;
}

async function flushHeartbeats(ctx: ServerContext, q: { pending: Map<string, Beat>; running: boolean }): Promise<void> {
  try {
    while (q.pending.size) {
      const group = [...q.pending.entries()];
      q.pending.clear();
      const now = ctx.clock.now();
      let desired: (number | undefined)[] = [];
      try {
        desired = await ctx.db.transaction().execute(async (trx) => {
          const out: (number | undefined)[] = [];
          for (const [lockerId] of group) {
            const row = await trx.updateTable('lockers').set({ last_seen_at: now, online: 1 }).where('id', '=', lockerId).returning('desired_version').executeTakeFirst();
            out.push(row?.desired_version);
          }
          return out;
        });
      } catch (err) {
        // A heartbeat is not acknowledged: losing one costs only a later "last seen".
        ctx.stats.reject('HANDLER_FAILED');
        ctx.log.error({ err }, 'heartbeat batch failed');
      }
      group.forEach(([, beat], i) => {
        for (const w of beat.waiters) w(desired[i]);
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    q.running = false;
  }
}
