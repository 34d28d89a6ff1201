import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import { errorBody } from '../errors.js';
import { clockWindowStore } from './rate-limit-store.js';
import { WindowCounter } from './rate-limit-window.js';
const MINUTE = 60_000;
/** Registers @fastify/rate-limit (no global hook) and returns the limiter the auth hook calls. */
export async function registerRateLimits(app, settings, clock) {
    await app.register(rateLimit, { global: false, store: clockWindowStore(clock) });
    // The auth hook sets request.principal before it asks; the key is the account, whatever the route.
    const perAccount = app.createRateLimit({
        timeWindow: MINUTE,
        keyGenerator: (req) => `account:${req.principal?.id ?? ''}`,
        max: (req) => (req.principal?.role === 'admin' ? settings.adminPerMinute : settings.perMinute),
    });
    const perAddress = app.createRateLimit({
        timeWindow: MINUTE,
        keyGenerator: (req) => `address:${normalizeIP(req.ip)}`,
        max: settings.anonymousPerMinute,
    });
    // Public routes that take a credential in the body: every attempt counts when it arrives (so a burst of
    // concurrent guesses cannot pass before the first is refused) and is given back when it is accepted.
    const refusals = new WindowCounter(clock, MINUTE);
    app.addHook('onRequest', async (request, reply) => {
        if (!request.routeOptions.config.limitRefusalsByAddress)
            return;
        const address = `address:${normalizeIP(request.ip)}`;
        if (refusals.count(address) <= settings.anonymousPerMinute)
            return;
        const retryAfterSec = Math.max(1, Math.ceil(refusals.msLeft(address) / 1000));
        return reply.code(429).header('retry-after', String(retryAfterSec)).send(errorBody('RATE_LIMITED', { retryAfterSec }));
    });
    app.addHook('onResponse', async (request, reply) => {
        if (request.routeOptions.config.limitRefusalsByAddress && reply.statusCode < 400)
            refusals.giveBack(`address:${normalizeIP(request.ip)}`);
    });
    return async (request, principal) => {
        if (principal?.role === 'admin' && settings.adminPerMinute === 0)
            return { limited: false };
        const result = await (principal ? perAccount(request) : perAddress(request));
        if (result.isAllowed || !result.isExceeded)
            return { limited: false };
        return { limited: true, retryAfterSec: Math.max(1, result.ttlInSeconds) };
    };
}
//# sourceMappingURL=rate-limit.js.map