import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import { LockstepError, errorBody } from '../errors.js';
import type { Role } from '../../shared/api/accounts.js';
import type { Principal } from '../accounts/principal.js';
import type { RequestLimiter } from './rate-limit.js';
import type { ResolvedSession, SignInSessions } from '../accounts/sessions.js';
import { sessionCookieValue } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The sign-in session the request came with (cookie), or null (bearer token, public route). */
    signInSession: ResolvedSession | null;
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
  /** Cookie sign-in sessions (operators in a browser); absent: bearer tokens only. */
  sessions?: SignInSessions;
}

/** Methods that change nothing: no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How often a stream opened with a session checks that the session still holds (revoked elsewhere, idle, ended). */
const STREAM_CHECK_MS = 30_000;

/** The token of an `Authorization: Bearer <token>` header (printable ASCII, at most 1024 characters). */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  return /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header)?.[1];
}

/**
 * Authentication (a bearer token, or else a sign-in session cookie), per-account rate limits, CSRF and per-route
 * roles, in that order, before the body is read: no or a bad credential → 401 UNAUTHENTICATED; too many requests →
 * 429 RATE_LIMITED; a state-changing request by cookie without its session's X-CSRF-Token → 403 CSRF_TOKEN_INVALID;
 * a role the route does not admit → 403 FORBIDDEN. A bearer token wins over a cookie (machines need no CSRF token).
 * Requests without a valid credential are limited per client address.
 */
export function registerAuth(app: App, deps: AuthDeps): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('signInSession', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const roles = request.routeOptions.config.roles;
    if (roles === 'public' || request.is404) return;
    const token = bearerToken(request.headers.authorization);
    if (token && request.routeOptions.config.metricsToken && deps.isMetricsToken?.(token)) return;
    const cookie = !token && deps.sessions ? sessionCookieValue(request) : undefined;
    const session = cookie && deps.sessions ? await deps.sessions.resolve(cookie) : null;
    const principal = token ? await deps.authenticate(token) : (session?.principal ?? null);
    request.principal = principal;
    request.signInSession = session;
    const verdict = await deps.limit(request, principal);
    if (verdict.limited) {
      return reply
        .code(429)
        .header('retry-after', String(verdict.retryAfterSec))
        .send(errorBody('RATE_LIMITED', { retryAfterSec: verdict.retryAfterSec }));
    }
    if (!principal) {
      const reason = token ? 'invalid token' : cookie ? 'invalid session' : 'no bearer token or session';
      request.log.info({ reason }, 'request not authenticated');
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHENTICATED'));
    }
    if (session && deps.sessions && !SAFE_METHODS.has(request.method) && !deps.sessions.csrfMatches(session, request.headers['x-csrf-token'])) {
      request.log.warn({ accountId: session.principal.id }, 'cookie request without its CSRF token refused');
      return reply.code(403).send(errorBody('CSRF_TOKEN_INVALID'));
    }
    if (!roles || !roles.includes(principal.role)) {
      return reply.code(403).send(errorBody('FORBIDDEN', { required: roles ?? [] }));
    }
    if (session && cookie && deps.sessions && request.routeOptions.config.streaming) guardStream(deps.sessions, session, cookie, reply);
  });
}

/** A long-lived stream opened with a session ends when the session does (sign-out, revoke-all, idle, end). */
function guardStream(sessions: SignInSessions, session: ResolvedSession, cookie: string, reply: FastifyReply): void {
  const end = () => reply.raw.destroy();
  const unwatch = sessions.watch(session.idHash, end);
  const timer = setInterval(() => {
    sessions.resolve(cookie, false).then(
      (still) => still || end(),
      () => undefined,
    );
  }, STREAM_CHECK_MS);
  timer.unref();
  reply.raw.once('close', () => {
    clearInterval(timer);
    unwatch();
  });
}

/** The authenticated caller of a route that is not public (the auth hook guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new LockstepError('UNAUTHENTICATED');
  return request.principal;
}
