import { recordAudit, SYSTEM_ACTOR } from '../audit/audit-log.js';
import { LockstepError } from '../errors.js';
import { UnitOfWork } from '../desired-state/unit-of-work.js';
/** A locker's desired state holds at most this many keys (`keys.set` and snapshots, shared/messages.ts). */
const MAX_LIVE_KEYS = 16;
/**
 * Key rotation (docs/security.md, "Signing keys"):
 * 1. `rotateKey` makes a `next` key and puts the new key set into every locker's desired state (a `keys.set`
 *    delta); the version that carried it is kept per locker. The next key signs nothing yet.
 * 2. `maintainKeys` activates it once every locker that has ever been heard from reported a version at or after
 *    the one that carried it, or once `keyActivationGraceSec` has passed; `activateKey` does it at once. The key
 *    that was active becomes `previous`: it signs nothing more and stays in the key sets while its grants may live.
 * 3. A previous key is retired by `retireKey` (an admin), or by `maintainKeys` once no live grant of it can still
 *    be accepted. Retiring takes it out of every locker's key set (another `keys.set`), out of the JWKS, and
 *    deletes its private key; lockers then refuse its grants (UNKNOWN_KEY).
 */
/**
 * Puts `keys` into every locker's desired state (published once `uow.committed()` runs: a locker that misses it gets
 * the same keys with its next snapshot); records the carrying version for `deliveredKid` when given. Returns how
 * many lockers.
 */
async function pushKeySet(uow, keys, now, deliveredKid) {
    const lockers = await uow.trx.selectFrom('lockers').select('id').orderBy('id').execute();
    const changes = [{ op: 'keys.set', keys }];
    for (const { id } of lockers) {
        const version = await uow.changeDesiredState(id, changes, now);
        if (deliveredKid)
            await uow.trx.insertInto('key_deliveries').values({ kid: deliveredKid, locker_id: id, version }).execute();
    }
    return lockers.length;
}
async function findKey(ctx, kid) {
    const row = await ctx.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    if (!row)
        throw new LockstepError('KEY_NOT_FOUND', { kid });
    return row;
}
/** Makes the next key and sends it to every locker. Refused while another next key exists. */
export function rotateKey(ctx, actor) {
    return ctx.keys.exclusive(async () => {
        await ctx.keys.reload(ctx.db);
        const pending = ctx.keys.next;
        if (pending)
            throw new LockstepError('KEY_ROTATION_IN_PROGRESS', { kid: pending.kid });
        if (ctx.keys.live().length >= MAX_LIVE_KEYS)
            throw new LockstepError('TOO_MANY_KEYS', { live: ctx.keys.live().length });
        const now = ctx.clock.now();
        const key = await ctx.keys.generate(now);
        const keys = [...ctx.keys.publicKeys(), key.publicJwk];
        let pushed;
        try {
            pushed = await ctx.db.transaction().execute(async (trx) => {
                const uow = new UnitOfWork(trx, ctx);
                await trx
                    .insertInto('signing_keys')
                    .values({ kid: key.kid, status: 'next', public_x: key.publicJwk.x, created_at: now, activated_at: null, retired_at: null })
                    .execute();
                const lockers = await pushKeySet(uow, keys, now, key.kid);
                await recordAudit(trx, { at: now, actor, action: 'key.rotate', result: 'done', subject: key.kid, detail: { lockers } });
                return { uow, lockers };
            });
        }
        catch (err) {
            ctx.keys.deleteFile(key.kid);
            throw err;
        }
        await ctx.keys.reload(ctx.db);
        ctx.log.warn({ kid: key.kid, lockers: pushed.lockers, actor }, 'signing key rotation started');
        await pushed.uow.committed();
        return findKey(ctx, key.kid);
    });
}
/** Lockers heard from at least once that have not yet reported the version that carried `kid`. */
export async function lockersWithoutKey(ctx, kid) {
    const row = await ctx.db
        .selectFrom('key_deliveries as d')
        .innerJoin('lockers as l', 'l.id', 'd.locker_id')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('d.kid', '=', kid)
        .whereRef('l.reported_version', '<', 'd.version')
        // A locker never heard from takes no code before its first snapshot, and that snapshot carries every key.
        .where('l.last_seen_at', 'is not', null)
        .executeTakeFirstOrThrow();
    return Number(row.n);
}
/** Grants signed with `kid` that a locker may still accept (live, inside their window plus the clock tolerance). */
export async function liveGrantsOf(ctx, kid) {
    const nowSec = Math.floor(ctx.clock.now() / 1000);
    const row = await ctx.db
        .selectFrom('grants')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('kid', '=', kid)
        .where('status', '=', 'live')
        .where('exp', '>', nowSec - ctx.config.clockToleranceSec)
        .executeTakeFirstOrThrow();
    return Number(row.n);
}
/** The next key starts signing; the active one becomes previous. */
export function activateKey(ctx, kid, actor, reason = null) {
    return ctx.keys.exclusive(async () => {
        const row = await findKey(ctx, kid);
        if (row.status !== 'next')
            throw new LockstepError('KEY_NOT_NEXT', { kid, status: row.status });
        const now = ctx.clock.now();
        const pendingLockers = await lockersWithoutKey(ctx, kid);
        await ctx.db.transaction().execute(async (trx) => {
            await trx.updateTable('signing_keys').set({ status: 'previous' }).where('status', '=', 'active').execute();
            await trx.updateTable('signing_keys').set({ status: 'active', activated_at: now }).where('kid', '=', kid).execute();
            await trx.deleteFrom('key_deliveries').where('kid', '=', kid).execute();
            await recordAudit(trx, { at: now, actor, action: 'key.activate', result: 'done', subject: kid, reason, detail: { pendingLockers } });
        });
        await ctx.keys.reload(ctx.db);
        ctx.log.warn({ kid, actor, reason, pendingLockers }, 'signing key activated');
        return findKey(ctx, kid);
    });
}
/**
 * Retires a next or previous key: out of every locker's key set and the JWKS, private key deleted. Grants it signed
 * that are still live stop working (returned as `liveGrants`). The active key cannot be retired.
 */
export function retireKey(ctx, kid, actor, reason = null) {
    return ctx.keys.exclusive(async () => {
        const row = await findKey(ctx, kid);
        if (row.status === 'active')
            throw new LockstepError('KEY_ACTIVE', { kid });
        if (row.status === 'retired')
            return { key: row, liveGrants: 0 };
        const now = ctx.clock.now();
        const liveGrants = await liveGrantsOf(ctx, kid);
        const keys = ctx.keys.publicKeys().filter((k) => k.kid !== kid);
        const uow = await ctx.db.transaction().execute(async (trx) => {
            const unit = new UnitOfWork(trx, ctx);
            await trx.updateTable('signing_keys').set({ status: 'retired', retired_at: now }).where('kid', '=', kid).execute();
            await trx.deleteFrom('key_deliveries').where('kid', '=', kid).execute();
            const lockers = await pushKeySet(unit, keys, now);
            await recordAudit(trx, { at: now, actor, action: 'key.retire', result: 'done', subject: kid, reason, detail: { liveGrants, lockers } });
            return unit;
        });
        ctx.keys.deleteFile(kid);
        await ctx.keys.reload(ctx.db);
        ctx.log.warn({ kid, actor, reason, liveGrants }, 'signing key retired');
        // After the keys in memory changed: the lockers' new key set goes out.
        await uow.committed();
        return { key: await findKey(ctx, kid), liveGrants };
    });
}
/** One pass of the automatic rules: activate a delivered (or overdue) next key, retire previous keys with no live grant. */
export async function maintainKeys(ctx) {
    await ctx.keys.exclusive(() => ctx.keys.reload(ctx.db));
    const now = ctx.clock.now();
    const next = ctx.keys.next;
    if (next) {
        const pending = await lockersWithoutKey(ctx, next.kid);
        if (pending === 0)
            await activateKey(ctx, next.kid, SYSTEM_ACTOR, 'every locker holds it');
        else if (now - next.createdAt >= ctx.config.keyActivationGraceSec * 1000) {
            await activateKey(ctx, next.kid, SYSTEM_ACTOR, `grace period over; ${pending} lockers have not reported it`);
        }
    }
    for (const key of ctx.keys.live()) {
        if (key.status === 'previous' && (await liveGrantsOf(ctx, key.kid)) === 0) {
            await retireKey(ctx, key.kid, SYSTEM_ACTOR, 'no live grant left');
        }
    }
}
//# sourceMappingURL=key-rotation.js.map