import { Type } from '@sinclair/typebox';
import { AccountList, AccountView, AccountWithTokensView, CreateAccountBody, CreatedAccountView, IssuedTokenView, RotatedTokenView, TokenView, } from '../../shared/api/accounts.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { disableAccount, findAccount, insertAccount, insertToken, listAccounts, listTokens, revokeToken } from './account-store.js';
import { accountView, tokenView } from './account-views.js';
const TokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), tokenId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const ADMIN = { roles: ['admin'] };
/** Accounts, their tokens, and rotation of the bootstrap admin token. Admin only. */
export const accountRoutes = async (app, { ctx, tokens, bootstrap }) => {
    const { db, clock } = ctx;
    /** Signs a token for the account and records its id (the token itself is never stored). */
    async function issueFor(store, account) {
        const issued = await tokens.issue(account);
        await insertToken(store, { id: issued.id, accountId: account.id, createdAt: issued.createdAt, expiresAt: issued.expiresAt });
        return issued;
    }
    async function existing(id) {
        const account = await findAccount(db, id);
        if (!account)
            throw new LockstepError('ACCOUNT_NOT_FOUND', { accountId: id });
        return account;
    }
    app.post('/v1/accounts', {
        config: ADMIN,
        schema: {
            body: CreateAccountBody,
            response: { 201: CreatedAccountView, ...authErrors },
        },
    }, async (request, reply) => {
        // Account and first token in one transaction: a failure leaves neither.
        const { account, issued } = await db.transaction().execute(async (trx) => {
            const row = await insertAccount(trx, request.body, clock.now());
            return { account: row, issued: await issueFor(trx, row) };
        });
        request.log.info({ accountId: account.id, role: account.role, by: principalOf(request).id }, 'account created');
        return reply
            .code(201)
            .send({ ...accountView(account), token: issued.token, tokenId: issued.id, tokenExpiresAt: issued.expiresAt });
    });
    app.get('/v1/accounts', { config: ADMIN, schema: { response: { 200: AccountList, ...authErrors } } }, async () => ({ accounts: (await listAccounts(db)).map(accountView) }));
    app.get('/v1/accounts/:id', {
        config: ADMIN,
        schema: {
            params: IdParams,
            response: { 200: AccountWithTokensView, 404: ErrorResponse, ...authErrors },
        },
    }, async (request) => {
        const account = await existing(request.params.id);
        return { ...accountView(account), tokens: (await listTokens(db, account.id)).map(tokenView) };
    });
    app.post('/v1/accounts/:id/tokens', {
        config: ADMIN,
        schema: { params: IdParams, response: { 201: IssuedTokenView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    }, async (request, reply) => {
        const account = await existing(request.params.id);
        if (account.disabled)
            throw new LockstepError('ACCOUNT_DISABLED', { accountId: account.id });
        const issued = await issueFor(db, account);
        request.log.info({ accountId: account.id, tokenId: issued.id, by: principalOf(request).id }, 'token issued');
        return reply.code(201).send(issued);
    });
    app.post('/v1/accounts/:id/tokens/:tokenId/revoke', { config: ADMIN, schema: { params: TokenParams, response: { 200: TokenView, 404: ErrorResponse, ...authErrors } } }, async (request) => {
        await existing(request.params.id);
        const row = await revokeToken(db, request.params.id, request.params.tokenId, clock.now());
        if (!row)
            throw new LockstepError('TOKEN_NOT_FOUND', { accountId: request.params.id, tokenId: request.params.tokenId });
        request.log.info({ accountId: row.account_id, tokenId: row.jti, by: principalOf(request).id }, 'token revoked');
        return tokenView(row);
    });
    app.post('/v1/accounts/:id/disable', { config: ADMIN, schema: { params: IdParams, response: { 200: AccountView, 404: ErrorResponse, ...authErrors } } }, async (request) => {
        await existing(request.params.id);
        await disableAccount(db, request.params.id);
        request.log.info({ accountId: request.params.id, by: principalOf(request).id }, 'account disabled');
        return accountView(await existing(request.params.id));
    });
    app.post('/v1/admin/rotate-token', { config: ADMIN, schema: { response: { 200: RotatedTokenView, 409: ErrorResponse, ...authErrors } } }, async (request) => {
        const token = bootstrap.rotate();
        request.log.warn({ by: principalOf(request).id }, 'bootstrap admin token rotated');
        return { token };
    });
};
//# sourceMappingURL=account-routes.js.map