import { AccountView } from '../../shared/api/accounts.js';
import { SessionsEndedView, SetPasswordBody, SetRoleBody } from '../../shared/api/sessions.js';
import { LockstepError } from '../errors.js';
import { principalOf } from '../http/auth.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { findAccount, setAccountRole } from './account-store.js';
import { accountView } from './account-views.js';
import { credentialsByAccount } from './credential-store.js';

const ADMIN = { roles: ['admin'] } as const;
const errors = { 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, ...authErrors } as const;

/**
 * What an admin does about other accounts' sign-in: set a password (how the first operator gets one: the bootstrap
 * admin token sets it), change a role, end every session, remove a lost second factor.
 */
export const accountSignInRoutes: RoutePlugin = async (app, { ctx, signIn }) => {
  const { db } = ctx;

  async function existing(id: string) {
    const account = await findAccount(db, id);
    if (!account) throw new LockstepError('ACCOUNT_NOT_FOUND', { accountId: id });
    return account;
  }

  async function view(id: string) {
    return accountView(await existing(id), { credentials: await credentialsByAccount(db), activeSessions: await signIn.sessions.activeCounts() });
  }

  app.post(
    '/v1/accounts/:id/password',
    { config: ADMIN, schema: { summary: "Set an account's password (ends its sessions)", tags: ['accounts'], params: IdParams, body: SetPasswordBody, response: { 200: SessionsEndedView, ...errors } } },
    async (request) => {
      const account = await existing(request.params.id);
      const result = await signIn.setPassword(account, request.body.password, request.signInSession?.idHash);
      request.log.info({ accountId: account.id, by: principalOf(request).id, sessionsEnded: result.sessionsEnded }, 'password set');
      return result;
    },
  );

  app.post(
    '/v1/accounts/:id/role',
    { config: ADMIN, schema: { summary: "Change an account's role", tags: ['accounts'], params: IdParams, body: SetRoleBody, response: { 200: AccountView, ...errors } } },
    async (request) => {
      const account = await existing(request.params.id);
      if (account.role !== request.body.role) {
        // Its sessions and tokens were granted for the old role: they end (tokens carry the role and stop matching).
        await setAccountRole(db, account.id, request.body.role);
        await signIn.sessions.revokeAll(db, account.id);
        request.log.info({ accountId: account.id, from: account.role, to: request.body.role, by: principalOf(request).id }, 'account role changed');
      }
      return view(account.id);
    },
  );

  app.post(
    '/v1/accounts/:id/sessions/revoke',
    { config: ADMIN, schema: { summary: 'End every session of an account', tags: ['accounts'], params: IdParams, response: { 200: SessionsEndedView, ...errors } } },
    async (request) => {
      const account = await existing(request.params.id);
      const sessionsEnded = await signIn.sessions.revokeAll(db, account.id);
      request.log.info({ accountId: account.id, by: principalOf(request).id, sessionsEnded }, 'sessions revoked');
      return { sessionsEnded };
    },
  );

  app.post(
    '/v1/accounts/:id/totp/remove',
    { config: ADMIN, schema: { summary: "Remove an account's second factor", tags: ['accounts'], params: IdParams, response: { 200: AccountView, ...errors } } },
    async (request) => {
      const account = await existing(request.params.id);
      await signIn.removeTotp(account.id);
      request.log.info({ accountId: account.id, by: principalOf(request).id }, 'second factor removed by an admin');
      return view(account.id);
    },
  );
};
