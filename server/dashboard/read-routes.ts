import { Type } from '@sinclair/typebox';
import type { DeviceEvent } from '../../shared/messages.js';
import type { App } from '../http/app.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { FleetTotals, LockerSummary, fleetTotals, readFleet } from './fleet-views.js';

const OptionalString = Type.Optional(Type.String());

/** A device event as operators read it (what the locker recorded, and when the server committed it). */
const EventView = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  bootId: Type.String(),
  type: Type.String(),
  /** Device time. */
  at: Type.Integer(),
  receivedAt: Type.Integer(),
  compartmentId: OptionalString,
  parcelId: OptionalString,
  action: OptionalString,
  via: OptionalString,
  reason: OptionalString,
  commandId: OptionalString,
});

const EventsQuery = Type.Object(
  {
    /** Only events with a seq below this one (page backwards). */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    /** How many (default 50, at most 200). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);

const PICKED = ['compartmentId', 'parcelId', 'action', 'via', 'reason', 'commandId'] as const;

/** Read routes the dashboard needs beside the lockers, parcels, commands and alarms routes. */
export function dashboardReadRoutes(app: App, ctx: ServerContext): void {
  app.get(
    '/v1/fleet',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { response: { 200: Type.Object({ at: Type.Integer(), totals: FleetTotals, lockers: Type.Array(LockerSummary) }), ...authErrors } },
    },
    async () => {
      const lockers = await readFleet(ctx.db);
      return { at: ctx.clock.now(), totals: fleetTotals(lockers), lockers };
    },
  );

  app.get(
    '/v1/lockers/:id/events',
    {
      config: { roles: ['admin', 'operator'] },
      schema: {
        params: IdParams,
        querystring: EventsQuery,
        response: { 200: Type.Object({ events: Type.Array(EventView), nextBefore: Type.Union([Type.Integer(), Type.Null()]) }), 404: ErrorResponse, ...authErrors },
      },
    },
    async (request) => {
      const lockerId = request.params.id;
      const limit = Math.min(200, Number(request.query.limit ?? 50));
      const locker = await ctx.db.selectFrom('lockers').select('id').where('id', '=', lockerId).executeTakeFirst();
      if (!locker) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId });
      let q = ctx.db.selectFrom('device_events').selectAll().where('locker_id', '=', lockerId).orderBy('seq', 'desc').limit(limit);
      if (request.query.before) q = q.where('seq', '<', Number(request.query.before));
      const rows = await q.execute();
      const events = rows.map((r) => {
        const body = JSON.parse(r.body) as Partial<DeviceEvent>;
        const view: Record<string, string | number> = { seq: r.seq, id: r.event_id, bootId: r.boot_id, type: r.type, at: r.device_at, receivedAt: r.received_at };
        for (const key of PICKED) {
          const value = body[key];
          if (typeof value === 'string') view[key] = value;
        }
        return view as { seq: number; id: string; bootId: string; type: string; at: number; receivedAt: number };
      });
      const last = rows[rows.length - 1];
      return { events, nextBefore: rows.length === limit && last && last.seq > 1 ? last.seq : null };
    },
  );
}
