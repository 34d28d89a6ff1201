import type { Transaction } from 'kysely';
import type { Telemetry } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import { applyTelemetry } from '../lockers/telemetry.js';
import type { Database } from '../store/schema.js';
import { lockLockersInOrder } from '../store/lock-order.js';

export interface Beat {
  lockerId: string;
  telemetry: Telemetry | undefined;
}

/** Most heartbeats in one transaction: bounds how long one commit holds the database. */
export const MAX_HEARTBEAT_GROUP = 500;

/**
 * A group of heartbeats, in the group's transaction (ctx.writers.heartbeats): each locker's desired version.
 * Telemetry is applied per locker; "seen now" is one statement for the whole group (one round trip to Postgres
 * instead of one per heartbeat: the per-row updates were most of a large fleet's heartbeat cost).
 */
export async function writeHeartbeats(ctx: ServerContext, trx: Transaction<Database>, group: readonly Beat[]): Promise<(number | undefined)[]> {
  const now = ctx.clock.now();
  const ids = [...new Set(group.map((b) => b.lockerId))];
  await lockLockersInOrder(trx, ids);
  for (const beat of group) {
    if (beat.telemetry) await applyTelemetry(ctx, trx, beat.lockerId, beat.telemetry, now);
  }
  const rows = await trx.updateTable('lockers').set({ last_seen_at: now, online: 1 }).where('id', 'in', ids).returning(['id', 'desired_version']).execute();
  const versions = new Map(rows.map((r) => [r.id, r.desired_version]));
  return group.map((b) => versions.get(b.lockerId));
}

/**
 * Records that a locker was seen now (and its telemetry), resolving with its desired-state version. Heartbeats
 * that arrive in the same turn of the event loop, or while a commit is in flight, are written in one
 * transaction (server/store/group-commit.ts): a fleet's heartbeats were one durable commit each (lockers / interval
 * per second), the first limit on connected lockers (docs/performance.md, connections). A heartbeat is never
 * acknowledged, so a failed write costs only a later "last seen".
 */
export async function recordHeartbeat(ctx: ServerContext, lockerId: string, telemetry?: Telemetry): Promise<number | undefined> {
  try {
    return await ctx.writers.heartbeats.add({ lockerId, telemetry });
  } catch (err) {
    ctx.log.error({ err, lockerId }, 'heartbeat not recorded');
    return undefined;
  }
}
