import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import { LockstepError, errorBody } from '../errors.js';
import type { Role } from '../../shared/api/accounts.js';
import type { Principal } from '../accounts/principal.js';
import type { RequestLimiter } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route. Every route states it; a route without it is refused to everyone. */
    roles?: readonly Role[] | 'public';
    /** The route also admits the METRICS_TOKEN (a scraper, not an account; not rate-limited): /metrics. */
    metricsToken?: boolean;
  }
}

export interface AuthDeps {
  /** The principal behind a bearer token, or null when the token is not (or no longer) valid. */
  authenticate(token: string): Promise<Principal | null>;
  limit: RequestLimiter;
  isMetricsToken?(token: string): boolean;
}

/** The token of an `Authorization: Bearer <token>` header (printable ASCII, at most 1024 characters). */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  return /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header)?.[1];
}

/**
 * Bearer-token authentication, per-account rate limits and per-route roles, in that order, before the body is
 * read: no or a bad token → 401 UNAUTHENTICATED; too many requests → 429 RATE_LIMITED; a role the route does not
 * admit → 403 FORBIDDEN. Requests without a valid token are limited per client address.
 */
export function registerAuth(app: App, deps: AuthDeps): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const roles = request.routeOptions.config.roles;
    if (roles === 'public' || request.is404) return;
    const token = bearerToken(request.headers.authorization);
    if (token && request.routeOptions.config.metricsToken && deps.isMetricsToken?.(token)) return;
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
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new LockstepError('UNAUTHENTICATED');
  return request.principal;
}
