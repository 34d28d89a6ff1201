import { CommandAccepted, CommandBody, CommandList, CommandView, RemoteOpenRequestList, RemoteOpenRequestQuery } from '../../shared/api/commands.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { ERRORS, LockstepError } from '../errors.js';
import { commandView } from './commands.js';
import { openRemotely } from './remote-open.js';
import { approveRemoteOpen, remoteOpenRequestView } from './remote-open-approval.js';
import { setServiceLimited } from './set-service.js';
/** A refusal over a limit tells when to try again (retry-after), like the API's own rate limit. */
async function withRetryAfter(reply, work) {
    try {
        return await work();
    }
    catch (err) {
        if (err instanceof LockstepError && ERRORS[err.code].status === 429)
            reply.header('retry-after', String(err.details?.retryAfterSec ?? 60));
        throw err;
    }
}
/**
 * Commands to a locker (remote open, set in or out of service): send one, list a locker's, read one; requests to
 * open an occupied compartment that wait for a second operator: list them, approve one.
 */
export const commandRoutes = async (app, { ctx }) => {
    app.post('/v1/lockers/:id/commands', {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, body: CommandBody, response: { 202: CommandAccepted, 404: ErrorResponse, ...authErrors } },
    }, async (request, reply) => {
        const body = request.body;
        if (body.type === 'set_service' && body.inService === undefined) {
            throw new LockstepError('VALIDATION_FAILED', { path: '/inService', problem: 'set_service needs inService' });
        }
        const actor = principalRef(principalOf(request));
        if (body.type !== 'open')
            return reply.code(202).send(commandView(await withRetryAfter(reply, () => setServiceLimited(ctx, request.params.id, body, actor))));
        const outcome = await withRetryAfter(reply, () => openRemotely(ctx, request.params.id, body, actor));
        return reply.code(202).send(outcome.kind === 'command' ? commandView(outcome.command) : remoteOpenRequestView(outcome.request));
    });
    app.get('/v1/lockers/:id/commands', {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, response: { 200: CommandList, ...authErrors } },
    }, async (request) => {
        const rows = await ctx.db.selectFrom('commands').selectAll().where('locker_id', '=', request.params.id).orderBy('created_at', 'desc').limit(200).execute();
        return { commands: rows.map(commandView) };
    });
    app.get('/v1/commands/:id', {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, response: { 200: CommandView, 404: ErrorResponse, ...authErrors } },
    }, async (request) => {
        const row = await ctx.db.selectFrom('commands').selectAll().where('id', '=', request.params.id).executeTakeFirst();
        if (!row)
            throw new LockstepError('COMMAND_NOT_FOUND', { commandId: request.params.id });
        return commandView(row);
    });
    app.get('/v1/remote-open-requests', {
        config: { roles: ['admin', 'operator'] },
        schema: { querystring: RemoteOpenRequestQuery, response: { 200: RemoteOpenRequestList, ...authErrors } },
    }, async (request) => {
        let q = ctx.db.selectFrom('remote_open_requests').selectAll().orderBy('created_at', 'desc').limit(200);
        if (request.query.state)
            q = q.where('state', '=', request.query.state);
        return { requests: (await q.execute()).map(remoteOpenRequestView) };
    });
    app.post('/v1/remote-open-requests/:id/approve', {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, response: { 202: CommandView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    }, async (request, reply) => {
        const approver = principalRef(principalOf(request));
        const { command } = await withRetryAfter(reply, () => approveRemoteOpen(ctx, request.params.id, approver));
        return reply.code(202).send(commandView(command));
    });
};
//# sourceMappingURL=command-routes.js.map