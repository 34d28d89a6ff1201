import { Type } from '@sinclair/typebox';
import type { RoutePlugin } from '../http/route-plugin.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import { actOnAlarm, type AlarmAction } from './alarm-actions.js';
import { AlarmStateSchema, AlarmView, alarmView, readAlarms } from './alarm-views.js';

const AlarmQuery = Type.Object(
  {
    lockerId: Type.Optional(Type.String({ maxLength: 64 })),
    state: Type.Optional(AlarmStateSchema),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** How many, newest first (default and maximum 1000). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  },
  { additionalProperties: false },
);

/** An optional note an operator gives with an acknowledge or resolve (kept on the alarm; the last one wins). */
const ActionBody = Type.Union([Type.Object({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false }), Type.Null()]);

export const alarmRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/v1/alarms',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { querystring: AlarmQuery, response: { 200: Type.Object({ alarms: Type.Array(AlarmView) }), ...authErrors } },
    },
    async (request) => {
      const { lockerId, state, kind, limit } = request.query;
      const alarms = await readAlarms(ctx.db, {
        ...(lockerId ? { lockerId } : {}),
        ...(state ? { state } : {}),
        ...(kind ? { kind } : {}),
        limit: Math.min(1000, Number(limit ?? 1000)),
      });
      return { alarms };
    },
  );

  app.get(
    '/v1/alarms/:id',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { params: IdParams, response: { 200: AlarmView, 404: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const row = await ctx.db.selectFrom('alarms').selectAll().where('id', '=', request.params.id).executeTakeFirst();
      if (!row) throw new LockstepError('ALARM_NOT_FOUND', { alarmId: request.params.id });
      return alarmView(row);
    },
  );

  const actions: Record<string, AlarmAction> = { acknowledge: 'acknowledge', resolve: 'resolve' };
  for (const [path, action] of Object.entries(actions)) {
    app.post(
      `/v1/alarms/:id/${path}`,
      {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, body: ActionBody, response: { 200: AlarmView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
      },
      async (request) => {
        const actor = principalRef(principalOf(request));
        const note = request.body?.note;
        const row = await actOnAlarm(ctx.db, request.params.id, action, actor, ctx.clock.now(), note);
        request.log.info({ alarmId: row.id, lockerId: row.locker_id, kind: row.kind, state: row.state, actor }, `alarm ${row.state}`);
        ctx.bus.lockerChanged(row.locker_id);
        return alarmView(row);
      },
    );
  }
};
