import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import {
  ChangePasswordBody,
  RemoveTotpBody,
  SessionView,
  SessionsEndedView,
  SignInBody,
  SignedOutView,
  TotpCodeBody,
  TotpEnrolmentView,
  TotpStateView,
} from '../../shared/api/sessions.js';
import { LockstepError } from '../errors.js';
import { principalOf } from '../http/auth.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import { clearSessionCookie, setSessionCookie } from '../http/session-cookie.js';
import { findAccount } from './account-store.js';
import { findCredentials } from './credential-store.js';
import type { ResolvedSession } from './sessions.js';

const SIGNED_IN = { roles: ['admin', 'operator'] } as const;
const errors = { 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, ...authErrors } as const;

/**
 * Operator sign-in: POST /v1/session signs in with name, password (and code) and sets the session cookie; GET tells
 * who is signed in and the CSRF token; DELETE signs out; revoke-all signs out everywhere. The account's own password
 * and second factor live under /v1/me. Passwords, codes and secrets are never logged.
 */
export const sessionRoutes: RoutePlugin = async (app, { ctx, signIn }) => {
  const { db, config } = ctx;
  const cookie = (expiresAt: number) => ({ security: config.sessionCookieSecure, hsts: config.hstsMaxAgeSec > 0, expiresAt });

  function sessionOf(request: FastifyRequest): ResolvedSession {
    if (!request.signInSession) throw new LockstepError('SESSION_REQUIRED');
    return request.signInSession;
  }

  async function hasTotp(accountId: string): Promise<boolean> {
    return (await findCredentials(db, accountId))?.totp_enabled === 1;
  }

  async function ownAccount(request: FastifyRequest) {
    const id = principalOf(request).id;
    const account = await findAccount(db, id);
    if (!account) throw new LockstepError('ACCOUNT_NOT_FOUND', { accountId: id });
    return account;
  }

  app.post(
    '/v1/session',
    {
      config: { roles: 'public', limitRefusalsByAddress: true, idempotency: false },
      schema: { summary: 'Sign in with name and password (sets the session cookie)', tags: ['sessions'], body: SignInBody, response: { 200: SessionView, 401: ErrorResponse, 423: ErrorResponse, 429: ErrorResponse, 400: ErrorResponse } },
    },
    async (request, reply) => {
      const { name, password, totp } = request.body;
      try {
        const { account, session } = await signIn.signIn({
          name,
          password,
          totp,
          address: normalizeIP(request.ip),
          userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
        });
        setSessionCookie(request, reply, session.value, cookie(session.expiresAt));
        request.log.info({ accountId: account.id, role: account.role }, 'signed in');
        const now = ctx.clock.now();
        return {
          account: { id: account.id, name: account.name, role: account.role },
          csrfToken: session.csrfToken,
          createdAt: now,
          expiresAt: session.expiresAt,
          idleExpiresAt: Math.min(session.expiresAt, now + signIn.sessions.settings.idleMs),
          totp: await hasTotp(account.id),
        };
      } catch (err) {
        if (err instanceof LockstepError) {
          // The name is logged, never the password or the code.
          request.log.info({ code: err.code, nameLength: name.length }, 'sign-in refused');
          const retry = err.details?.retryAfterSec;
          if (typeof retry === 'number') reply.header('retry-after', String(retry));
        }
        throw err;
      }
    },
  );

  app.get('/v1/session', { config: SIGNED_IN, schema: { summary: 'The current session', tags: ['sessions'], response: { 200: SessionView, ...errors } } }, async (request) => {
    const s = sessionOf(request);
    return {
      account: { id: s.principal.id, name: s.name, role: s.principal.role },
      csrfToken: s.csrfToken,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      idleExpiresAt: s.idleExpiresAt,
      totp: await hasTotp(s.principal.id),
    };
  });

  app.delete('/v1/session', { config: SIGNED_IN, schema: { summary: 'Sign out (end this session)', tags: ['sessions'], response: { 200: SignedOutView, ...errors } } }, async (request, reply) => {
    const s = sessionOf(request);
    await signIn.sessions.revoke(s.idHash);
    clearSessionCookie(reply);
    request.log.info({ accountId: s.principal.id }, 'signed out');
    return { signedOut: true as const };
  });

  app.post('/v1/session/revoke-all', { config: SIGNED_IN, schema: { summary: 'Sign out everywhere (end every session of this account)', tags: ['sessions'], response: { 200: SessionsEndedView, ...errors } } }, async (request, reply) => {
    const p = principalOf(request);
    const sessionsEnded = await signIn.sessions.revokeAll(db, p.id);
    if (request.signInSession) clearSessionCookie(reply);
    request.log.info({ accountId: p.id, sessionsEnded }, 'signed out everywhere');
    return { sessionsEnded };
  });

  app.put('/v1/me/password', { config: SIGNED_IN, schema: { summary: 'Change your own password', tags: ['sessions'], body: ChangePasswordBody, response: { 200: SessionsEndedView, ...errors } } }, async (request) => {
    const account = await ownAccount(request);
    const result = await signIn.changeOwnPassword(account, request.body.currentPassword, request.body.newPassword, request.signInSession?.idHash);
    request.log.info({ accountId: account.id, sessionsEnded: result.sessionsEnded }, 'own password changed');
    return result;
  });

  // The answer holds the TOTP secret: never stored for replay (docs/http-api.md, Idempotency keys).
  app.post('/v1/me/totp', { config: { ...SIGNED_IN, idempotency: false }, schema: { summary: 'Start enrolling a second factor (TOTP)', tags: ['sessions'], response: { 200: TotpEnrolmentView, ...errors } } }, async (request) => {
    const account = await ownAccount(request);
    const enrolment = await signIn.startTotp(account);
    request.log.info({ accountId: account.id }, 'second factor enrolment started');
    return enrolment;
  });

  app.post('/v1/me/totp/confirm', { config: SIGNED_IN, schema: { summary: 'Confirm the second factor with a code', tags: ['sessions'], body: TotpCodeBody, response: { 200: TotpStateView, ...errors } } }, async (request) => {
    const account = await ownAccount(request);
    await signIn.confirmTotp(account, request.body.code);
    request.log.info({ accountId: account.id }, 'second factor enabled');
    return { totp: true };
  });

  app.post('/v1/me/totp/remove', { config: SIGNED_IN, schema: { summary: 'Remove your second factor', tags: ['sessions'], body: RemoveTotpBody, response: { 200: TotpStateView, ...errors } } }, async (request) => {
    const account = await ownAccount(request);
    await signIn.checkPassword(account, request.body.password);
    await signIn.removeTotp(account.id);
    request.log.info({ accountId: account.id }, 'second factor removed');
    return { totp: false };
  });
};
