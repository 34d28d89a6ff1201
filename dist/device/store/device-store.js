import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { NO_FAILURES } from '../keypad-lockout.js';
import { deviceMigrations } from './migrations.js';
import { batchItemKey, batchItemsOf } from '../batch.js';
/** Used grants are remembered this long after they expire, so a clock that jumps back cannot reopen them. */
const USED_RETENTION_SEC = 30 * 24 * 3600;
/**
 * The locker's durable memory (one SQLite file): grants, used grants, the event outbox, what each compartment
 * holds, the applied desired-state version and settings. Every write that matters is a transaction committed
 * with synchronous=FULL, so a power cut loses nothing that was acknowledged.
 */
export class DeviceStore {
    db;
    newEventId;
    constructor(db, newEventId) {
        this.db = db;
        this.newEventId = newEventId;
    }
    static async open(file, newEventId) {
        const sqlite = new SQLite(file);
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('synchronous = FULL');
        const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
        const { error } = await new Migrator({ db, provider: { getMigrations: async () => deviceMigrations } }).migrateToLatest();
        if (error) {
            await db.destroy();
            throw new Error(`device store migration failed: ${String(error)}`, { cause: error });
        }
        return new DeviceStore(db, newEventId);
    }
    close() {
        return this.db.destroy();
    }
    // ---- settings --------------------------------------------------------------------------------------------
    async getMeta(key, trx = this.db) {
        const row = await trx.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
        return row?.value;
    }
    async setMeta(key, value, trx = this.db) {
        await trx
            .insertInto('meta')
            .values({ key, value })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
            .execute();
    }
    async appliedVersion() {
        return Number((await this.getMeta('applied_version')) ?? 0);
    }
    async config() {
        const raw = await this.getMeta('config');
        return raw ? JSON.parse(raw) : undefined;
    }
    async keys() {
        const raw = await this.getMeta('keys');
        return raw ? JSON.parse(raw) : [];
    }
    async lastSeq() {
        return Number((await this.getMeta('last_seq')) ?? 0);
    }
    // ---- events ----------------------------------------------------------------------------------------------
    /**
     * Records events in the outbox with the next sequence numbers, together with `alsoDo` in one transaction:
     * either all of it is durable or none.
     */
    async record(events, meta, alsoDo) {
        return this.db.transaction().execute(async (trx) => {
            if (alsoDo)
                await alsoDo(trx);
            if (meta.time !== undefined)
                await this.setMeta('time', meta.time, trx);
            let seq = Number((await this.getMeta('last_seq', trx)) ?? 0);
            const recorded = [];
            for (const e of events) {
                seq++;
                const event = { seq, id: this.newEventId(), bootId: meta.bootId, at: meta.now, ...e };
                await trx.insertInto('outbox').values({ seq, body: JSON.stringify(event) }).execute();
                recorded.push(event);
            }
            if (recorded.length)
                await this.setMeta('last_seq', String(seq), trx);
            return recorded;
        });
    }
    /** The oldest unacknowledged events, in seq order. */
    async pending(limit) {
        const rows = await this.db.selectFrom('outbox').select('body').orderBy('seq').limit(limit).execute();
        return rows.map((r) => JSON.parse(r.body));
    }
    /** Deletes events the server acknowledged (after it committed them). */
    async acknowledge(seqs) {
        if (seqs.length)
            await this.db.deleteFrom('outbox').where('seq', 'in', seqs).execute();
    }
    async outboxSize() {
        const row = await this.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        return Number(row.n);
    }
    // ---- grants ----------------------------------------------------------------------------------------------
    /**
     * The grant with this PIN hash, a usable one first: a used or revoked grant never shadows a new grant that got
     * the same PIN (it is returned only when nothing else matches, so the person hears "already used").
     */
    async grantByPinHash(pinHash) {
        const matching = this.db.selectFrom('grants').selectAll().where('pin_hash', '=', pinHash).orderBy('exp', 'desc');
        const usable = await matching
            .where((eb) => eb.not(eb.exists(eb.selectFrom('used_grants').select('jti').whereRef('used_grants.jti', '=', 'grants.jti'))))
            .where((eb) => eb.not(eb.exists(eb.selectFrom('revoked_grants').select('jti').whereRef('revoked_grants.jti', '=', 'grants.jti'))))
            .executeTakeFirst();
        return usable ?? matching.executeTakeFirst();
    }
    async isUsed(jti, trx = this.db) {
        return (await trx.selectFrom('used_grants').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
    }
    async isRevoked(jti) {
        return (await this.db.selectFrom('revoked_grants').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
    }
    /** Marks a grant used; false when it already was (the caller must not open). */
    async markUsed(trx, jti, exp, now) {
        const r = await trx
            .insertInto('used_grants')
            .values({ jti, used_at: now, exp })
            .onConflict((oc) => oc.column('jti').doNothing())
            .executeTakeFirst();
        return r.numInsertedOrUpdatedRows === 1n;
    }
    async grantCount() {
        const row = await this.db.selectFrom('grants').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        return Number(row.n);
    }
    /** Replaces the grant set (a snapshot) or adds/revokes grants (a delta), and records the applied version. */
    async applyDesired(change) {
        await this.db.transaction().execute(async (trx) => {
            if (change.replaceAll) {
                await trx.deleteFrom('grants').execute();
                await trx.deleteFrom('grant_items').execute();
            }
            if (change.revoke.length) {
                await trx.deleteFrom('grants').where('jti', 'in', change.revoke).execute();
                await trx.deleteFrom('grant_items').where('jti', 'in', change.revoke).execute();
                await trx
                    .insertInto('revoked_grants')
                    .values(change.revoke.map((jti) => ({ jti, revoked_at: change.now })))
                    .onConflict((oc) => oc.column('jti').doNothing())
                    .execute();
            }
            for (const { token, claims } of change.add) {
                await trx
                    .insertInto('grants')
                    .values({
                    jti: claims.jti,
                    token,
                    action: claims.act,
                    parcel_id: claims.sub,
                    compartment_id: claims.cmp,
                    pin_hash: claims.ph,
                    nbf: claims.nbf,
                    exp: claims.exp,
                })
                    .onConflict((oc) => oc.column('jti').doNothing())
                    .execute();
                const items = claims.act === 'deposit_batch' ? batchItemsOf(claims) : null;
                for (const i of items ?? []) {
                    await trx
                        .insertInto('grant_items')
                        .values({ jti: claims.jti, parcel_id: i.p, compartment_id: i.c })
                        .onConflict((oc) => oc.columns(['jti', 'parcel_id']).doNothing())
                        .execute();
                }
            }
            if (change.keys)
                await this.setMeta('keys', JSON.stringify(change.keys), trx);
            if (change.config)
                await this.setMeta('config', JSON.stringify(change.config), trx);
            for (const c of change.compartments ?? []) {
                await trx.updateTable('compartments').set({ in_service: c.inService ? 1 : 0 }).where('id', '=', c.id).execute();
            }
            await this.setMeta('applied_version', String(change.version), trx);
        });
    }
    /**
     * Drops grants long expired and used-grant records past their retention. `serverNowSec` must be a time the
     * server confirmed: a device clock that jumps forward must not make the locker forget what was used.
     */
    async prune(serverNowSec) {
        await this.db.deleteFrom('grants').where('exp', '<', serverNowSec - 24 * 3600).execute();
        await this.db
            .deleteFrom('grant_items')
            .where((eb) => eb.not(eb.exists(eb.selectFrom('grants').select('jti').whereRef('grants.jti', '=', 'grant_items.jti'))))
            .execute();
        await this.db.deleteFrom('used_grants').where('exp', '<', serverNowSec - USED_RETENTION_SEC).execute();
    }
    // ---- compartments ----------------------------------------------------------------------------------------
    /** Makes sure every compartment the hardware has is known (new ones start empty). */
    async ensureCompartments(list) {
        for (const c of list) {
            await this.db
                .insertInto('compartments')
                .values({ id: c.id, size: c.size, in_service: 1, parcel_id: null, fault: null, session: null })
                .onConflict((oc) => oc.column('id').doNothing())
                .execute();
        }
    }
    async compartment(id, trx = this.db) {
        return trx.selectFrom('compartments').selectAll().where('id', '=', id).executeTakeFirst();
    }
    async compartments() {
        return this.db.selectFrom('compartments').selectAll().orderBy('id').execute();
    }
    async setContents(trx, id, parcelId) {
        await trx.updateTable('compartments').set({ parcel_id: parcelId }).where('id', '=', id).execute();
    }
    async setFault(trx, id, fault) {
        await trx.updateTable('compartments').set({ fault }).where('id', '=', id).execute();
    }
    async setSession(trx, id, session) {
        await trx.updateTable('compartments').set({ session }).where('id', '=', id).execute();
    }
    async setInService(trx, id, inService) {
        await trx.updateTable('compartments').set({ in_service: inService ? 1 : 0 }).where('id', '=', id).execute();
    }
    // ---- where parcels are (moves, reservations) ------------------------------------------------------------
    /** The compartment this locker saw the parcel put into (and not taken out of), if any. */
    async holderOf(parcelId) {
        return (await this.db.selectFrom('compartments').select('id').where('parcel_id', '=', parcelId).executeTakeFirst())?.id;
    }
    /** True when this locker moved the parcel's deposit away from `fromId` (so a code naming `fromId` follows it). */
    async movedFrom(parcelId, fromId) {
        const row = await this.db.selectFrom('parcel_moves').select('to_id').where('parcel_id', '=', parcelId).where('from_id', '=', fromId).executeTakeFirst();
        return row !== undefined;
    }
    async recordMove(trx, parcelId, fromId, toId, at) {
        await trx
            .insertInto('parcel_moves')
            .values({ parcel_id: parcelId, from_id: fromId, to_id: toId, at })
            .onConflict((oc) => oc.columns(['parcel_id', 'from_id']).doUpdateSet({ to_id: toId, at }))
            .execute();
    }
    /**
     * Compartments promised to parcels by codes that may still open them: unused, unrevoked deposit grants and the
     * unused parcels of batch grants, not expired at `nowSec`.
     */
    async reservations(nowSec) {
        const singles = await this.db
            .selectFrom('grants')
            .select(['compartment_id as compartmentId', 'parcel_id as parcelId'])
            .where('action', '=', 'deposit')
            .where('exp', '>', nowSec)
            .where((eb) => eb.not(eb.exists(eb.selectFrom('revoked_grants').select('jti').whereRef('revoked_grants.jti', '=', 'grants.jti'))))
            .where((eb) => eb.not(eb.exists(eb.selectFrom('used_grants').select('jti').whereRef('used_grants.jti', '=', 'grants.jti'))))
            .execute();
        const items = await this.db
            .selectFrom('grant_items')
            .innerJoin('grants', 'grants.jti', 'grant_items.jti')
            .select(['grant_items.compartment_id as compartmentId', 'grant_items.parcel_id as parcelId', 'grant_items.jti as jti'])
            .where('grants.exp', '>', nowSec)
            .where((eb) => eb.not(eb.exists(eb.selectFrom('revoked_grants').select('jti').whereRef('revoked_grants.jti', '=', 'grants.jti'))))
            .execute();
        const used = new Set(items.length
            ? (await this.db.selectFrom('used_grants').select('jti').where('jti', 'in', items.map((i) => batchItemKey(i.jti, i.parcelId))).execute()).map((r) => r.jti)
            : []);
        return [...singles, ...items.filter((i) => !used.has(batchItemKey(i.jti, i.parcelId))).map(({ compartmentId, parcelId }) => ({ compartmentId, parcelId }))];
    }
    /** The parcel's own deposit grants, with whether each was used or revoked here. */
    async depositGrantsOf(parcelId) {
        const rows = await this.db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'deposit').execute();
        const out = [];
        for (const r of rows)
            out.push({ jti: r.jti, used: await this.isUsed(r.jti), revoked: await this.isRevoked(r.jti) });
        return out;
    }
    // ---- keypad lockout --------------------------------------------------------------------------------------
    /** The keypad's run of failed attempts (see device/keypad-lockout.ts). */
    async keypadLockout() {
        const row = await this.db.selectFrom('keypad_lockout').selectAll().where('id', '=', 1).executeTakeFirst();
        return row ? { failures: row.failures, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until } : { ...NO_FAILURES };
    }
    /** Stores the lockout state, inside the transaction that records the attempt it follows from. */
    async setKeypadLockout(trx, s) {
        const values = { failures: s.failures, last_failure_at: s.lastFailureAt, locked_until: s.lockedUntil };
        await trx
            .insertInto('keypad_lockout')
            .values({ id: 1, ...values })
            .onConflict((oc) => oc.column('id').doUpdateSet(values))
            .execute();
    }
    // ---- commands --------------------------------------------------------------------------------------------
    async commandState(id) {
        return (await this.db.selectFrom('commands').select('state').where('id', '=', id).executeTakeFirst())?.state;
    }
    async putCommand(trx, id, type, state, now) {
        await trx
            .insertInto('commands')
            .values({ id, type, state, received_at: now })
            .onConflict((oc) => oc.column('id').doUpdateSet({ state }))
            .execute();
    }
}
//# sourceMappingURL=device-store.js.map