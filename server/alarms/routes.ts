import { Type } from '@sinclair/typebox';
import type { App } from '../http/app.js';
import { authErrors } from '../http/schemas.js';
import type { ServerContext } from '../context.js';
import { ALARM_STATES } from '../store/schema.js';

const AlarmView = Type.Object({
  id: Type.String(),
  lockerId: Type.String(),
  compartmentId: Type.Union([Type.String(), Type.Null()]),
  parcelId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  state: Type.Union(ALARM_STATES.map((s) => Type.Literal(s))),
  count: Type.Integer(),
  firstAt: Type.Integer(),
  lastAt: Type.Integer(),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const AlarmQuery = Type.Object(
  {
    lockerId: Type.Optional(Type.String({ maxLength: 64 })),
    state: Type.Optional(Type.Union(ALARM_STATES.map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);

export function alarmRoutes(app: App, ctx: ServerContext): void {
  app.get(
    '/v1/alarms',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { querystring: AlarmQuery, response: { 200: Type.Object({ alarms: Type.Array(AlarmView) }), ...authErrors } },
    },
    async (request) => {
      let q = ctx.db.selectFrom('alarms').selectAll().orderBy('last_at', 'desc').limit(1000);
      if (request.query.lockerId) q = q.where('locker_id', '=', request.query.lockerId);
      if (request.query.state) q = q.where('state', '=', request.query.state);
      const rows = await q.execute();
      return {
        alarms: rows.map((a) => ({
          id: a.id,
          lockerId: a.locker_id,
          compartmentId: a.compartment_id,
          parcelId: a.parcel_id,
          kind: a.kind,
          state: a.state,
          count: a.count,
          firstAt: a.first_at,
          lastAt: a.last_at,
          detail: a.detail ? (JSON.parse(a.detail) as Record<string, unknown>) : null,
        })),
      };
    },
  );
}
