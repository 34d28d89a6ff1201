import { AlarmActionBody, AlarmList, AlarmQuery, AlarmView } from '../../shared/api/alarms.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import { actOnAlarm, type AlarmAction } from './alarm-actions.js';
import { pageLimit } from '../http/page-cursor.js';
import { ALARM_PAGE_DEFAULT, ALARM_PAGE_MAX, alarmView, listAlarms } from './alarm-views.js';

export const alarmRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/v1/alarms',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { summary: 'List alarms', tags: ['alarms'], querystring: AlarmQuery, response: { 200: AlarmList, ...authErrors } },
    },
    async (request) => {
      const { lockerId, state, kind, severity, firstBefore, limit, cursor } = request.query;
      const filter = { ...(lockerId ? { lockerId } : {}), ...(state ? { state } : {}), ...(kind ? { kind } : {}), ...(severity ? { severity } : {}), ...(firstBefore ? { firstBefore: Number(firstBefore) } : {}) };
      return listAlarms(ctx.db, filter, pageLimit(limit, ALARM_PAGE_DEFAULT, ALARM_PAGE_MAX), cursor);
    },
  );

  app.get(
    '/v1/alarms/:id',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { summary: 'Read an alarm', tags: ['alarms'], params: IdParams, response: { 200: AlarmView, 404: ErrorResponse, ...authErrors } },
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
        schema: { summary: `${path === 'acknowledge' ? 'Acknowledge' : 'Resolve'} an alarm`, tags: ['alarms'], params: IdParams, body: AlarmActionBody, response: { 200: AlarmView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
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
