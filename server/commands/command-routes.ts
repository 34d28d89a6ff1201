import { Type } from '@sinclair/typebox';
import { CompartmentId } from '../../shared/ids.js';
import { COMMAND_TYPES } from '../../shared/messages.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import { COMMAND_STATES } from '../store/schema.js';
import { commandView, createCommand } from './commands.js';
import { openRemotely } from './remote-open.js';

const CommandBody = Type.Object(
  {
    type: Type.Union(COMMAND_TYPES.map((t) => Type.Literal(t))),
    compartmentId: CompartmentId,
    /** Required for set_service. */
    inService: Type.Optional(Type.Boolean()),
    /** Why: kept with the command and, for a remote open, in the audit log. One compartment per call: no bulk open. */
    reason: Type.String({ minLength: 3, maxLength: 200 }),
    ttlSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

const CommandView = Type.Object({
  id: Type.String(),
  lockerId: Type.String(),
  type: Type.Union(COMMAND_TYPES.map((t) => Type.Literal(t))),
  compartmentId: Type.String(),
  inService: Type.Union([Type.Boolean(), Type.Null()]),
  reason: Type.String(),
  requestedBy: Type.String(),
  state: Type.Union(COMMAND_STATES.map((s) => Type.Literal(s))),
  result: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

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
      schema: { params: IdParams, response: { 200: Type.Object({ commands: Type.Array(CommandView) }), ...authErrors } },
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
