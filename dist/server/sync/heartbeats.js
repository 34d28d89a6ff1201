import { applyTelemetry } from '../lockers/telemetry.js';
import { prepareQuery } from '../store/prepared-query.js';
/** Most heartbeats in one transaction: bounds how long one commit holds the database. */
export const MAX_HEARTBEAT_GROUP = 500;
/** The locker was seen (and is online); its desired version tells whether it stayed behind. */
const seen = prepareQuery((db, a) => db.updateTable('lockers').set({ last_seen_at: a.at, online: 1 }).where('id', '=', a.lockerId).returning('desired_version'));
/** A group of heartbeats, in the group's transaction (ctx.writers.heartbeats): each locker's desired version. */
export async function writeHeartbeats(ctx, trx, group) {
    const now = ctx.clock.now();
    const out = [];
    for (const beat of group) {
        if (beat.telemetry)
            await applyTelemetry(ctx, trx, beat.lockerId, beat.telemetry, now);
        const { rows } = await seen.run(trx, { at: now, lockerId: beat.lockerId });
        out.push(rows[0]?.desired_version);
    }
    return out;
}
/**
 * Records that a locker was seen now (and its telemetry), resolving with its desired-state version. Heartbeats
 * that arrive in the same turn of the event loop, or while a commit is in flight, are written in one
 * transaction (server/store/group-commit.ts): a fleet's heartbeats were one durable commit each (lockers / interval
 * per second), the first limit on connected lockers (docs/performance.md, connections). A heartbeat is never
 * acknowledged, so a failed write costs only a later "last seen".
 */
export async function recordHeartbeat(ctx, lockerId, telemetry) {
    try {
        return await ctx.writers.heartbeats.add({ lockerId, telemetry });
    }
    catch (err) {
        ctx.log.error({ err, lockerId }, 'heartbeat not recorded');
        return undefined;
    }
}
//# sourceMappingURL=heartbeats.js.map