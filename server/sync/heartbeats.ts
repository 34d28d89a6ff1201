import type { Telemetry } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import { applyTelemetry } from '../lockers/telemetry.js';
import { prepareQuery } from '../store/prepared-query.js';

interface Beat {
  lockerId: string;
  telemetry: Telemetry | undefined;
  resolve: (desiredVersion: number | undefined) => void;
}

interface Queue {
  pending: Beat[];
  running: boolean;
}

const queues = new WeakMap<ServerContext, Queue>();

/**
 * Records that a locker was seen now (and its telemetry), resolving with its desired-state version. Heartbeats
 * that arrive in the same turn of the event loop, or while a commit is in flight, are written in one
 * transaction: a fleet's heartbeats were one durable commit each (lockers / interval per second), the first
 * limit on connected lockers (docs/performance.md, connections). A heartbeat is never acknowledged, so a
 * failed write costs only a later "last seen".
 */
export function recordHeartbeat(ctx: ServerContext, lockerId: string, telemetry?: Telemetry): Promise<number | undefined> {
  let q = queues.get(ctx);
  if (!q) queues.set(ctx, (q = { pending: [], running: false }));
  const queue = q;
  const done = new Promise<number | undefined>((resolve) => queue.pending.push({ lockerId, telemetry, resolve }));
  if (!queue.running) {
    queue.running = true;
    // After this turn's I/O callbacks: every heartbeat read in this turn joins the same commit.
    setImmediate(() => void flush(ctx, queue));
  }
  return done;
}

/** Most heartbeats in one transaction: bounds how long one commit holds the database. */
const MAX_GROUP = 500;

async function flush(ctx: ServerContext, q: Queue): Promise<void> {
  try {
    while (q.pending.length) {
      const group = q.pending.splice(0, MAX_GROUP);
      try {
        const versions = await write(ctx, group);
        group.forEach((beat, i) => beat.resolve(versions[i]));
      } catch {
        // One bad beat (a telemetry alarm write that failed) must not cost the others: each on its own.
        for (const beat of group) {
          try {
            beat.resolve((await write(ctx, [beat]))[0]);
          } catch (err) {
            ctx.log.error({ err, lockerId: beat.lockerId }, 'heartbeat not recorded');
            beat.resolve(undefined);
          }
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    q.running = false;
  }
}

/** The locker was seen (and is online); its desired version tells whether it stayed behind. Compiled once. */
const seen = prepareQuery((db, a: { at: number; lockerId: string }) => db.updateTable('lockers').set({ last_seen_at: a.at, online: 1 }).where('id', '=', a.lockerId).returning('desired_version'));

function write(ctx: ServerContext, group: readonly Beat[]): Promise<(number | undefined)[]> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const out: (number | undefined)[] = [];
    for (const beat of group) {
      if (beat.telemetry) await applyTelemetry(ctx, trx, beat.lockerId, beat.telemetry, now);
      const { rows } = await seen.run(trx, { at: now, lockerId: beat.lockerId });
      out.push(rows[0]?.desired_version);
    }
    return out;
  });
}
