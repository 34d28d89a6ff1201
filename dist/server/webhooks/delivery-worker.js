import { claimDelivery, dueDeliveries, pruneDeliveries, recordOutcome, releaseClaim } from './delivery-store.js';
import { deliveryBody } from './parcel-events.js';
import { addressPolicy } from './address-policy.js';
import { AddressRefusedError, postOnce } from './outbound-http.js';
import { afterFailure } from './retry-policy.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.js';
import { deliveryTarget } from './webhook-endpoints.js';
/** A lease outlives an attempt by this much before another worker may take the delivery over. */
const LEASE_MARGIN_MS = 30_000;
/** Old delivered and dead deliveries are pruned at most this often (clock time). */
const PRUNE_EVERY_MS = 60_000;
const MAX_ERROR_LENGTH = 200;
/**
 * Delivers the webhook outbox: polls on the injected clock every `webhookPollMs` (and again at once when an
 * attempt ends, so an account's backlog drains at the speed of its endpoint), at most `webhookConcurrency`
 * attempts in flight and at most one per account, oldest first per account.
 */
export function startWebhookWorker(ctx, options = {}) {
    const { config, clock, db, log } = ctx;
    const random = options.random ?? Math.random;
    const policy = { maxAttempts: config.webhookMaxAttempts, baseMs: config.webhookRetryBaseMs, maxMs: config.webhookRetryMaxMs };
    const addresses = addressPolicy(config.webhookAllowPrivate);
    const inFlight = new Map();
    const busyAccounts = new Set();
    const shutdown = new AbortController();
    let stopped = false;
    let running;
    let again = false;
    let lastPrune = Number.NEGATIVE_INFINITY;
    let cancelTimer = () => { };
    /** One pass: claim what is due, start it. Re-runs when asked again while running. */
    const pass = async () => {
        do {
            again = false;
            const free = config.webhookConcurrency - inFlight.size;
            if (free <= 0)
                return;
            const now = clock.now();
            const due = await dueDeliveries(db, now, free, [...busyAccounts]);
            for (const row of due) {
                if (stopped)
                    return;
                if (busyAccounts.has(row.account_id) || inFlight.size >= config.webhookConcurrency)
                    continue;
                if (!(await claimDelivery(db, row, now, now + config.webhookTimeoutMs + LEASE_MARGIN_MS)))
                    continue;
                busyAccounts.add(row.account_id);
                const claimed = { ...row, attempts: row.attempts + 1 };
                const p = deliver(claimed)
                    .catch((err) => log.error({ err, deliveryId: row.id }, 'webhook attempt failed unexpectedly'))
                    .finally(() => {
                    inFlight.delete(row.seq);
                    busyAccounts.delete(row.account_id);
                    kick();
                });
                inFlight.set(row.seq, p);
            }
            if (now - lastPrune >= PRUNE_EVERY_MS) {
                lastPrune = now;
                const pruned = await pruneDeliveries(db, now - config.webhookRetentionSec * 1000);
                if (pruned)
                    log.info({ pruned }, 'old webhook deliveries pruned');
            }
        } while (again && !stopped);
    };
    const kick = () => {
        if (stopped)
            return;
        if (running) {
            again = true;
            return;
        }
        running = pass()
            .catch((err) => log.error({ err }, 'webhook worker pass failed'))
            .finally(() => {
            running = undefined;
        });
    };
    const poll = () => {
        kick();
        if (!stopped)
            cancelTimer = clock.setTimeout(poll, config.webhookPollMs);
    };
    /** One attempt of a claimed delivery, and its outcome recorded. */
    async function deliver(row) {
        const target = await deliveryTarget(db, row.account_id);
        if (!target.ok) {
            // Nowhere to send it: dead-lettered at once (a new endpoint and a manual retry bring it back).
            await recordOutcome(db, row.seq, row.attempts, { state: 'dead', nextAttemptAt: clock.now(), status: null, error: target.reason, deliveredAt: null });
            log.warn({ deliveryId: row.id, accountId: row.account_id, reason: target.reason }, 'webhook delivery dead-lettered');
            return;
        }
        const body = await deliveryBody(db, ctx.pinSecret, { length: config.pinLength, alphabet: config.pinAlphabet }, row);
        const result = await post(target.url, target.secret, row, body);
        const now = clock.now();
        if ('aborted' in result) {
            await releaseClaim(db, row.seq, row.attempts, now);
            return;
        }
        if (result.ok) {
            await recordOutcome(db, row.seq, row.attempts, { state: 'delivered', nextAttemptAt: now, status: result.status, error: null, deliveredAt: now });
            log.debug({ deliveryId: row.id, accountId: row.account_id, eventType: row.event_type, attempts: row.attempts }, 'webhook delivered');
            return;
        }
        const next = afterFailure(policy, row.attempts, now, random);
        await recordOutcome(db, row.seq, row.attempts, {
            state: next.state,
            nextAttemptAt: next.state === 'pending' ? next.nextAttemptAt : now,
            status: result.status,
            error: result.error,
            deliveredAt: null,
        });
        const fields = { deliveryId: row.id, accountId: row.account_id, eventType: row.event_type, attempts: row.attempts, status: result.status, error: result.error };
        if (next.state === 'dead')
            log.warn(fields, 'webhook delivery dead-lettered');
        else
            log.info({ ...fields, retryInMs: next.nextAttemptAt - now }, 'webhook attempt failed; will retry');
    }
    /**
     * POSTs the signed body. Redirects are never followed (a 3xx is a failed attempt). The address connected to
     * must pass the address policy (a refusal is a failed attempt, `ADDRESS_REFUSED (<kind>)`, retried like any
     * network error: what a name resolves to, and the allow-list, may change). Never logs body or secret.
     */
    async function post(url, secret, row, body) {
        const protocol = URL.canParse(url) ? new URL(url).protocol : '';
        if (protocol !== 'http:' && protocol !== 'https:')
            return { ok: false, status: null, error: 'URL_REFUSED' };
        const t = Math.floor(clock.now() / 1000);
        const timeout = AbortSignal.timeout(config.webhookTimeoutMs);
        try {
            const status = await postOnce(url, {
                policy: addresses,
                signal: AbortSignal.any([shutdown.signal, timeout]),
                headers: {
                    'content-type': 'application/json',
                    'user-agent': 'Lockstep-Webhooks/1',
                    [SIGNATURE_HEADER]: signatureHeader(secret, t, body),
                    [EVENT_ID_HEADER]: row.id,
                    [EVENT_TYPE_HEADER]: row.event_type,
                },
                body,
            });
            if (status >= 200 && status < 300)
                return { ok: true, status };
            const error = status >= 300 && status < 400 ? `HTTP ${status} (redirect not followed)` : `HTTP ${status}`;
            return { ok: false, status, error };
        }
        catch (err) {
            if (shutdown.signal.aborted)
                return { ok: false, aborted: true };
            if (err instanceof AddressRefusedError) {
                // The address stays in the server's log only: a carrier reads lastError, and the address is what our resolver said.
                log.warn({ deliveryId: row.id, accountId: row.account_id, address: err.address, kind: err.kind }, 'webhook address refused');
                return { ok: false, status: null, error: `ADDRESS_REFUSED (${err.kind})` };
            }
            if (timeout.aborted)
                return { ok: false, status: null, error: 'TIMEOUT' };
            return { ok: false, status: null, error: describeNetworkError(err) };
        }
    }
    poll();
    return {
        async runOnce() {
            if (stopped)
                throw new Error('the webhook worker is stopped');
            while (running)
                await running;
            kick();
            await running;
            await Promise.allSettled([...inFlight.values()]);
            // An attempt that ended kicked another pass: let it settle too.
            while (running)
                await running;
        },
        async stop() {
            stopped = true;
            cancelTimer();
            shutdown.abort();
            await running;
            await Promise.allSettled([...inFlight.values()]);
        },
    };
}
/** A short, secret-free reason: the network error's code (ECONNREFUSED, ENOTFOUND, ...) or its message. */
function describeNetworkError(err) {
    const own = err;
    const code = typeof own?.code === 'string' ? own.code : typeof own?.cause?.code === 'string' ? own.cause.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    return (code ? `NETWORK ${code}` : `NETWORK ${message}`).slice(0, MAX_ERROR_LENGTH);
}
//# sourceMappingURL=delivery-worker.js.map