import { AlarmActionBody, AlarmList, AlarmQuery, AlarmView } from '../../shared/api/alarms.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import { actOnAlarm } from './alarm-actions.js';
import { alarmView, readAlarms } from './alarm-views.js';
export const alarmRoutes = async (app, { ctx }) => {
    app.get('/v1/alarms', {
        config: { roles: ['admin', 'operator'] },
        schema: { querystring: AlarmQuery, response: { 200: AlarmList, ...authErrors } },
    }, async (request) => {
        const { lockerId, state, kind, limit } = request.query;
        const alarms = await readAlarms(ctx.db, {
            ...(lockerId ? { lockerId } : {}),
            ...(state ? { state } : {}),
            ...(kind ? { kind } : {}),
            limit: Math.min(1000, Number(limit ?? 1000)),
        });
        return { alarms };
    });
    app.get('/v1/alarms/:id', {
        config: { roles: ['admin', 'operator'] },
        schema: { params: IdParams, response: { 200: AlarmView, 404: ErrorResponse, ...authErrors } },
    }, async (request) => {
        const row = await ctx.db.selectFrom('alarms').selectAll().where('id', '=', request.params.id).executeTakeFirst();
        if (!row)
            throw new LockstepError('ALARM_NOT_FOUND', { alarmId: request.params.id });
        return alarmView(row);
    });
    const actions = { acknowledge: 'acknowledge', resolve: 'resolve' };
    for (const [path, action] of Object.entries(actions)) {
        app.post(`/v1/alarms/:id/${path}`, {
            config: { roles: ['admin', 'operator'] },
            schema: { params: IdParams, body: AlarmActionBody, response: { 200: AlarmView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
        }, async (request) => {
            const actor = principalRef(principalOf(request));
            const note = request.body?.note;
            const row = await actOnAlarm(ctx.db, request.params.id, action, actor, ctx.clock.now(), note);
            request.log.info({ alarmId: row.id, lockerId: row.locker_id, kind: row.kind, state: row.state, actor }, `alarm ${row.state}`);
            ctx.bus.lockerChanged(row.locker_id);
            return alarmView(row);
        });
    }
};
//# sourceMappingURL=alarm-routes.js.map