import { topics } from '../../shared/topics.js';
import { encode } from '../../shared/codec.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { lockerPinKey } from '../codes/pins.js';
import { prepareQuery } from '../store/prepared-query.js';
/** Most revoked grant ids one snapshot carries (the StateSnapshotMessage schema's limit). */
const MAX_SNAPSHOT_REVOKED = 4096;
/**
 * Takes the locker's next desired-state version (undefined when there is no such locker), inside the caller's
 * transaction. Writers go through their unit of work (unit-of-work.ts), which also publishes the change after the
 * commit: the database is the truth, MQTT a cache.
 */
export async function takeDesiredVersion(trx, lockerId) {
    const { rows } = await nextVersion.run(trx, { lockerId });
    return rows[0]?.desired_version;
}
// Compiled once (server/store/prepared-query.ts): these two run for every booking and every state change.
const nextVersion = prepareQuery((db, a) => db
    .updateTable('lockers')
    .set((eb) => ({ desired_version: eb('desired_version', '+', 1) }))
    .where('id', '=', a.lockerId)
    .returning('desired_version'));
const insertChange = prepareQuery((db, row) => db.insertInto('desired_changes').values(row));
/** The change itself, under the version `takeDesiredVersion` gave. */
export async function recordDesiredChange(trx, lockerId, version, changes, now) {
    await insertChange.run(trx, { locker_id: lockerId, version, changes: JSON.stringify(changes), created_at: now });
}
/** One version's delta to the locker (after the commit that recorded it). */
export async function publishDelta(ctx, lockerId, version, changes) {
    const msg = {
        v: PROTOCOL_VERSION,
        full: false,
        version,
        baseVersion: version - 1,
        serverTime: ctx.clock.now(),
        changes,
    };
    await ctx.link.publish(topics.state(lockerId), encode(msg), { qos: 1 });
}
/** What the server pushes to a locker as settings. */
function deviceConfig(ctx, lockerId) {
    return {
        pinKey: lockerPinKey(ctx.pinSecret, lockerId).toString('base64url'),
        pinLength: ctx.config.pinLength,
        pinAlphabet: ctx.config.pinAlphabet,
        clockToleranceSec: ctx.config.clockToleranceSec,
        doorOpenTimeoutMs: ctx.config.doorOpenTimeoutMs,
        heartbeatMs: ctx.config.heartbeatMs,
        unlockAttempts: ctx.config.unlockAttempts,
    };
}
/** The whole desired state of a locker at its current version, read in one transaction. */
export async function buildSnapshot(ctx, lockerId) {
    const now = ctx.clock.now();
    return ctx.db.transaction().execute(async (trx) => {
        const locker = await trx.selectFrom('lockers').select('desired_version').where('id', '=', lockerId).executeTakeFirst();
        if (!locker)
            return null;
        const compartments = await trx
            .selectFrom('compartments')
            .select(['id', 'size', 'in_service'])
            .where('locker_id', '=', lockerId)
            .orderBy('id')
            .execute();
        const grants = await trx
            .selectFrom('grants')
            .select('token')
            .where('locker_id', '=', lockerId)
            .where('status', '=', 'live')
            .where('exp', '>', Math.floor(now / 1000) - ctx.config.clockToleranceSec)
            .orderBy('jti')
            .execute();
        const revoked = await trx
            .selectFrom('grants')
            .select('jti')
            .where('locker_id', '=', lockerId)
            .where('status', '=', 'revoked')
            .where('exp', '>', Math.floor(now / 1000) - ctx.config.clockToleranceSec)
            // The schema's limit: the longest-lived revocations matter most (the others expire first anyway).
            .orderBy('exp', 'desc')
            .limit(MAX_SNAPSHOT_REVOKED)
            .execute();
        if (revoked.length === MAX_SNAPSHOT_REVOKED)
            ctx.log.warn({ lockerId }, 'snapshot revocation list truncated');
        return {
            v: PROTOCOL_VERSION,
            full: true,
            version: locker.desired_version,
            serverTime: now,
            keys: ctx.keys.publicKeys(),
            config: deviceConfig(ctx, lockerId),
            compartments: compartments.map((c) => ({ id: c.id, size: c.size, inService: c.in_service === 1 })),
            grants: grants.map((g) => g.token),
            revoked: revoked.map((g) => g.jti),
        };
    });
}
export async function publishSnapshot(ctx, lockerId) {
    const snapshot = await buildSnapshot(ctx, lockerId);
    if (snapshot)
        await ctx.link.publish(topics.state(lockerId), encode(snapshot), { qos: 1 });
}
//# sourceMappingURL=desired-state.js.map