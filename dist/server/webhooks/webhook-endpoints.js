import { randomBytes } from 'node:crypto';
import { LockstepError } from '../errors.js';
import { destinationVerdict } from './outbound-http.js';
/**
 * The URL a webhook may point at: absolute http(s), no credentials, no fragment. Anything else (file:, ftp:,
 * data:, javascript:, a relative path) is refused with WEBHOOK_URL_INVALID. Returns the normalised URL.
 */
export function checkWebhookUrl(raw) {
    let url;
    try {
        url = new URL(raw);
    }
    catch {
        throw new LockstepError('WEBHOOK_URL_INVALID', { reason: 'not an absolute URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new LockstepError('WEBHOOK_URL_INVALID', { reason: 'the scheme must be http or https' });
    }
    if (url.username || url.password)
        throw new LockstepError('WEBHOOK_URL_INVALID', { reason: 'credentials in the URL' });
    if (url.hash)
        throw new LockstepError('WEBHOOK_URL_INVALID', { reason: 'a fragment in the URL' });
    return url.toString();
}
/**
 * Refuses (422 WEBHOOK_URL_REFUSED) a URL whose host is a refused address, or a name that resolves only to refused
 * ones. A courtesy to the carrier: the delivery worker checks the address it connects to every time.
 */
async function checkWebhookDestination(url, policy) {
    const verdict = await destinationVerdict(url, policy);
    if (!verdict.ok)
        throw new LockstepError('WEBHOOK_URL_REFUSED', { reason: verdict.kind });
}
/** A new signing secret: `whsec_` and 32 random bytes (base64url). */
export function newWebhookSecret() {
    return `whsec_${randomBytes(32).toString('base64url')}`;
}
/** The account must exist and be a carrier's (webhooks report the parcels a carrier booked). */
async function carrierAccount(db, accountId) {
    const account = await db.selectFrom('accounts').select(['id', 'role']).where('id', '=', accountId).executeTakeFirst();
    if (!account)
        throw new LockstepError('ACCOUNT_NOT_FOUND', { accountId });
    if (account.role !== 'carrier')
        throw new LockstepError('ACCOUNT_NOT_CARRIER', { accountId, role: account.role });
}
/**
 * Sets (or replaces) an account's endpoint. A PUT replaces the whole thing: without `secret` a new one is made.
 * Pending deliveries go to the new URL, signed with the new secret. Returns the row and the generated secret.
 * A URL the address policy refuses is WEBHOOK_URL_REFUSED.
 */
export async function putWebhook(db, accountId, body, now, addresses) {
    await carrierAccount(db, accountId);
    const url = checkWebhookUrl(body.url);
    await checkWebhookDestination(url, addresses);
    const generated = body.secret === undefined ? newWebhookSecret() : undefined;
    const secret = body.secret ?? generated;
    const existing = await db.selectFrom('webhooks').select('created_at').where('account_id', '=', accountId).executeTakeFirst();
    const row = { account_id: accountId, url, secret, created_at: existing?.created_at ?? now, updated_at: now };
    await db
        .insertInto('webhooks')
        .values(row)
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ url, secret, updated_at: now }))
        .execute();
    return generated ? { row, generatedSecret: generated } : { row };
}
export async function getWebhook(db, accountId) {
    await carrierAccount(db, accountId);
    const row = await db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    if (!row)
        throw new LockstepError('WEBHOOK_NOT_FOUND', { accountId });
    return row;
}
/**
 * Removes an account's endpoint. Its pending deliveries are dead-lettered at once (`WEBHOOK_REMOVED`), so
 * nothing is sent to an endpoint the carrier took away; they can be retried by hand once a new one is set.
 */
export async function deleteWebhook(db, accountId, now) {
    await carrierAccount(db, accountId);
    return db.transaction().execute(async (trx) => {
        const removed = await trx.deleteFrom('webhooks').where('account_id', '=', accountId).executeTakeFirst();
        if (removed.numDeletedRows === 0n)
            throw new LockstepError('WEBHOOK_NOT_FOUND', { accountId });
        const dead = await trx
            .updateTable('webhook_deliveries')
            .set({ state: 'dead', last_error: 'WEBHOOK_REMOVED', next_attempt_at: now })
            .where('account_id', '=', accountId)
            .where('state', '=', 'pending')
            .executeTakeFirst();
        return { deadLettered: Number(dead.numUpdatedRows) };
    });
}
/** Where a delivery goes: the endpoint of an enabled account, or why there is none. */
export async function deliveryTarget(db, accountId) {
    const row = await db
        .selectFrom('webhooks as w')
        .innerJoin('accounts as a', 'a.id', 'w.account_id')
        .select(['w.url', 'w.secret', 'a.disabled'])
        .where('w.account_id', '=', accountId)
        .executeTakeFirst();
    if (!row)
        return { ok: false, reason: 'WEBHOOK_NOT_CONFIGURED' };
    if (row.disabled !== 0)
        return { ok: false, reason: 'ACCOUNT_DISABLED' };
    return { ok: true, url: row.url, secret: row.secret };
}
//# sourceMappingURL=webhook-endpoints.js.map