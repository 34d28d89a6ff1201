import { LockstepError } from '../errors.js';
/**
 * The outbox's state changes. Every write after a claim is conditional on the row still being pending with the
 * attempt count the claim set, so a stale worker (or a second server process) never overwrites a newer result.
 */
/**
 * Deliveries due now, oldest first, at most one per account: only the oldest pending delivery of an account is
 * eligible (per-account order of creation), and none of an account that already has one in flight here.
 * A never-tried delivery is due at once; a retried one when its `next_attempt_at` has come.
 */
export function dueDeliveries(db, now, limit, busyAccounts) {
    let q = db
        .selectFrom('webhook_deliveries as d')
        .selectAll('d')
        .where('d.state', '=', 'pending')
        .where((eb) => eb.or([eb('d.attempts', '=', 0), eb('d.next_attempt_at', '<=', now)]))
        .where((eb) => eb('d.seq', '=', eb
        .selectFrom('webhook_deliveries as h')
        .select((h) => h.fn.min('h.seq').as('head'))
        .whereRef('h.account_id', '=', 'd.account_id')
        .where('h.state', '=', 'pending')));
    if (busyAccounts.length)
        q = q.where('d.account_id', 'not in', busyAccounts);
    return q.orderBy('d.seq').limit(limit).execute();
}
/**
 * Claims a delivery for one attempt: counts the attempt and leases the row until `leaseUntil` (a process that
 * dies mid-attempt leaves it due again after the lease). False when someone else claimed it first.
 */
export async function claimDelivery(db, row, now, leaseUntil) {
    const r = await db
        .updateTable('webhook_deliveries')
        .set({ attempts: row.attempts + 1, next_attempt_at: leaseUntil, last_attempt_at: now })
        .where('seq', '=', row.seq)
        .where('state', '=', 'pending')
        .where('attempts', '=', row.attempts)
        .executeTakeFirst();
    return r.numUpdatedRows === 1n;
}
/** The outcome of a claimed attempt (`attempts` = the count the claim set). */
export async function recordOutcome(db, seq, attempts, outcome) {
    await db
        .updateTable('webhook_deliveries')
        .set({
        state: outcome.state,
        next_attempt_at: outcome.nextAttemptAt,
        last_status: outcome.status,
        last_error: outcome.error,
        delivered_at: outcome.deliveredAt,
    })
        .where('seq', '=', seq)
        .where('state', '=', 'pending')
        .where('attempts', '=', attempts)
        .execute();
}
/** Gives a claimed attempt back without counting it (the server is stopping). */
export async function releaseClaim(db, seq, attempts, now) {
    await db
        .updateTable('webhook_deliveries')
        .set({ attempts: attempts - 1, next_attempt_at: now })
        .where('seq', '=', seq)
        .where('state', '=', 'pending')
        .where('attempts', '=', attempts)
        .execute();
}
/** Deletes delivered and dead deliveries created before `before`; returns how many. */
export async function pruneDeliveries(db, before) {
    const r = await db
        .deleteFrom('webhook_deliveries')
        .where('state', 'in', ['delivered', 'dead'])
        .where('created_at', '<', before)
        .executeTakeFirst();
    return Number(r.numDeletedRows);
}
/** Deliveries, newest first. */
export function listDeliveries(db, f) {
    let q = db.selectFrom('webhook_deliveries').selectAll();
    if (f.accountId !== undefined)
        q = q.where('account_id', '=', f.accountId);
    if (f.state !== undefined)
        q = q.where('state', '=', f.state);
    if (f.parcelId !== undefined)
        q = q.where('parcel_id', '=', f.parcelId);
    return q.orderBy('seq', 'desc').limit(f.limit).execute();
}
/** One delivery; another account's reads as not found (`accountId` given for a carrier). */
export async function findDelivery(db, id, accountId) {
    let q = db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id);
    if (accountId !== undefined)
        q = q.where('account_id', '=', accountId);
    const row = await q.executeTakeFirst();
    if (!row)
        throw new LockstepError('DELIVERY_NOT_FOUND', { deliveryId: id });
    return row;
}
/**
 * Puts a dead delivery back in the queue with a fresh set of attempts, due at once. It keeps its place in its
 * account's order (it is sent before the account's later pending deliveries). The account needs an endpoint.
 */
export async function retryDelivery(db, id, now, accountId) {
    const row = await findDelivery(db, id, accountId);
    if (row.state !== 'dead')
        throw new LockstepError('DELIVERY_NOT_DEAD', { deliveryId: id, state: row.state });
    const hook = await db.selectFrom('webhooks').select('account_id').where('account_id', '=', row.account_id).executeTakeFirst();
    if (!hook)
        throw new LockstepError('WEBHOOK_NOT_CONFIGURED', { accountId: row.account_id });
    const r = await db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', attempts: 0, next_attempt_at: now })
        .where('seq', '=', row.seq)
        .where('state', '=', 'dead')
        .executeTakeFirst();
    if (r.numUpdatedRows !== 1n)
        throw new LockstepError('DELIVERY_NOT_DEAD', { deliveryId: id });
    return findDelivery(db, id);
}
//# sourceMappingURL=delivery-store.js.map