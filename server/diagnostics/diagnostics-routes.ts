import { Type } from '@sinclair/typebox';
import { DiagnosticsBody, DiagnosticsView } from '../../shared/api/firmware.js';
import { DiagnosticsResult } from '../../shared/messages.js';
import { principalRef } from '../accounts/principal.js';
import { principalOf } from '../http/auth.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { DeviceLinks } from '../firmware/device-links.js';
import { DeviceLinkQuery } from '../firmware/firmware-routes.js';
import { diagnosticsView, requestDiagnostics, storeDiagnostics } from './diagnostics.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const RequestParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), requestId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** Remote diagnostics: ask a locker (admin, operator; audited), read the answer; and the route the locker answers on. */
export const diagnosticsRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/v1/lockers/:id/diagnostics',
    { config: { roles: ['admin', 'operator'] }, schema: { summary: 'Ask a locker for its diagnostics', tags: ['lockers'], params: IdParams, body: DiagnosticsBody, response: { 202: DiagnosticsView, 404: ErrorResponse, ...authErrors } } },
    async (request, reply) => reply.code(202).send(diagnosticsView(await requestDiagnostics(ctx, request.params.id, request.body, principalRef(principalOf(request))))),
  );

  app.get(
    '/v1/lockers/:id/diagnostics/:requestId',
    { config: { roles: ['admin', 'operator'] }, schema: { summary: 'A diagnostics request and its result', tags: ['lockers'], params: RequestParams, response: { 200: DiagnosticsView, 404: ErrorResponse, ...authErrors } } },
    async (request) => {
      const row = await ctx.db.selectFrom('diagnostics_requests').selectAll().where('id', '=', request.params.requestId).where('locker_id', '=', request.params.id).executeTakeFirst();
      if (!row) throw new LockstepError('DIAGNOSTICS_NOT_FOUND', { lockerId: request.params.id, requestId: request.params.requestId });
      return diagnosticsView(row);
    },
  );

  const links = new DeviceLinks(ctx.pinSecret);
  app.post(
    '/v1/device/diagnostics/:id',
    {
      // At most 1000 log lines of 2000 characters, plus the rest.
      bodyLimit: 2_500_000,
      config: { roles: 'public' },
      schema: { summary: 'Deliver diagnostics (device link)', tags: ['device'], params: IdParams, querystring: DeviceLinkQuery, body: DiagnosticsResult, response: { 204: Type.Null(), 403: ErrorResponse } },
    },
    async (request, reply) => {
      if (!links.check('diagnostics', request.params.id, { ...request.query, exp: Number(request.query.exp) }, ctx.clock.now())) throw new LockstepError('DEVICE_LINK_INVALID');
      const stored = await storeDiagnostics(ctx, request.params.id, request.query.locker, request.body);
      request.log.info({ requestId: request.params.id, lockerId: request.query.locker, stored }, 'diagnostics answered');
      return reply.code(204).send(null);
    },
  );
};
