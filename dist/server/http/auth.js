import { LockstepError, errorBody } from '../errors.js';
/** The token of an `Authorization: Bearer <token>` header (printable ASCII, at most 1024 characters). */
export function bearerToken(header) {
    if (typeof header !== 'string')
        return undefined;
    return /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header)?.[1];
}
/**
 * Bearer-token authentication, per-account rate limits and per-route roles, in that order, before the body is
 * read: no or a bad token → 401 UNAUTHENTICATED; too many requests → 429 RATE_LIMITED; a role the route does not
 * admit → 403 FORBIDDEN. Requests without a valid token are limited per client address.
 */
export function registerAuth(app, deps) {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request, reply) => {
        const roles = request.routeOptions.config.roles;
        if (roles === 'public' || request.is404)
            return;
        const token = bearerToken(request.headers.authorization);
        if (token && request.routeOptions.config.metricsToken && deps.isMetricsToken?.(token))
            return;
        const principal = token ? await deps.authenticate(token) : null;
        request.principal = principal;
        const verdict = await deps.limit(request, principal);
        if (verdict.limited) {
            return reply
                .code(429)
                .header('retry-after', String(verdict.retryAfterSec))
                .send(errorBody('RATE_LIMITED', { retryAfterSec: verdict.retryAfterSec }));
        }
        if (!principal) {
            request.log.info({ reason: token ? 'invalid token' : 'no bearer token' }, 'request not authenticated');
            return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHENTICATED'));
        }
        if (!roles || !roles.includes(principal.role)) {
            return reply.code(403).send(errorBody('FORBIDDEN', { required: roles ?? [] }));
        }
    });
}
/** The authenticated caller of a route that is not public (the auth hook guarantees one). */
export function principalOf(request) {
    if (!request.principal)
        throw new LockstepError('UNAUTHENTICATED');
    return request.principal;
}
//# sourceMappingURL=auth.js.map