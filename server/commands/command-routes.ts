import { CommandBody, CommandList, CommandView } from '../../shared/api/commands.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import { commandView, createCommand } from './commands.js';
import { openRemotely } from './remote-open.js';

/** Commands to a locker (remote open, set in or out of service): send one, list a locker's, read one. */
export const commandRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/v1/lockers/:id/commands',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { params: IdParams, body: CommandBody, response: { 202: CommandView, 404: ErrorResponse, ...authErrors } },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.type === 'set_service' && body.inService === undefined) {
        throw new LockstepError('VALIDATION_FAILED', { path: '/inService', problem: 'set_service needs inService' });
      }
      const actor = principalRef(principalOf(request));
      if (body.type !== 'open') return reply.code(202).send(commandView(await createCommand(ctx, request.params.id, body, actor)));
      try {
        return reply.code(202).send(commandView(await openRemotely(ctx, request.params.id, body, actor)));
      } catch (err) {
        if (err instanceof LockstepError && err.code === 'REMOTE_OPEN_LIMITED') reply.header('retry-after', String(err.details?.retryAfterSec ?? 60));
        throw err;
      }
    },
  );

  app.get(
    '/v1/lockers/:id/commands',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { params: IdParams, response: { 200: CommandList, ...authErrors } },
    },
    async (request) => {
      const rows = await ctx.db.selectFrom('commands').selectAll().where('locker_id', '=', request.params.id).orderBy('created_at', 'desc').limit(200).execute();
      return { commands: rows.map(commandView) };
    },
  );

  app.get(
    '/v1/commands/:id',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { params: IdParams, response: { 200: CommandView, 404: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const row = await ctx.db.selectFrom('commands').selectAll().where('id', '=', request.params.id).executeTakeFirst();
      if (!row) throw new LockstepError('COMMAND_NOT_FOUND', { commandId: request.params.id });
      return commandView(row);
    },
  );
};
