import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { DashboardSettings, EventsPage, EventsQuery, FleetView, type EventView } from '../../shared/api/dashboard.js';
import type { DeviceEvent } from '../../shared/messages.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError, errorBody } from '../errors.js';
import { fleetTotals, readFleet } from './fleet-views.js';
import { PUBLIC_DIR, loadAssets, loadVendorAssets, securityHeaders } from './static-assets.js';

const PICKED = ['compartmentId', 'parcelId', 'action', 'via', 'reason', 'commandId'] as const;

/** A client that reads slower than the fleet changes is cut off (it reconnects and gets a fresh snapshot). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

/**
 * The operator dashboard: its static pages under /dashboard/ (public: they hold no data), the read routes it
 * needs beside the lockers, parcels, commands and alarms routes, and its live stream.
 */
export const dashboardRoutes: RoutePlugin = async (app, { ctx, live }) => {
  app.get(
    '/v1/fleet',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { summary: 'Fleet overview (dashboard)', tags: ['lockers'], response: { 200: FleetView, ...authErrors } },
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
      schema: { summary: 'List a locker\'s device events', tags: ['lockers'],
        params: IdParams,
        querystring: EventsQuery,
        response: { 200: EventsPage, 404: ErrorResponse, ...authErrors },
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
        return view as EventView;
      });
      const last = rows[rows.length - 1];
      return { events, nextBefore: rows.length === limit && last && last.seq > 1 ? last.seq : null };
    },
  );

  // The live stream.

  // GET /v1/live (admin, operator): Server-Sent Events. The token travels in the Authorization header like on
  // every other route, so the dashboard reads the stream with fetch() (EventSource cannot send headers, and a
  // token in the URL would end up in logs and history). First `event: snapshot`, then at most one `event: update`
  // per LIVE_PUSH_INTERVAL_MS with what changed; a comment line every 15 s keeps proxies from closing it.
  const open = new Set<PassThrough>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });

  app.get('/v1/live', { config: { roles: ['admin', 'operator'], streaming: true }, schema: { response: { 200: Type.Unknown({ description: 'text/event-stream' }), ...authErrors } } }, async (request, reply) => {
    const stream = new PassThrough();
    open.add(stream);
    const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    const unsubscribe = live.subscribe((event, data) => {
      if (stream.writableLength > MAX_BUFFERED_BYTES) {
        request.log.warn({ buffered: stream.writableLength }, 'live client too slow; closing its stream');
        stream.end();
        return;
      }
      stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    const done = () => {
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(stream);
    };
    stream.once('close', done);
    reply.raw.once('close', () => stream.destroy());
    request.log.info('live stream opened');
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(stream);
  });

  // The pages: static HTML, CSS and JavaScript modules; every piece of data comes from the API with the operator's token.
  const assets = loadAssets(PUBLIC_DIR);
  for (const [rel, asset] of loadVendorAssets()) assets.set(rel, asset);
  const headers = securityHeaders(ctx.config.dashboardTileUrl);

  // What the pages need to know of the server's configuration (the map's tiles).
  app.get(
    '/v1/dashboard/settings',
    { config: { roles: ['admin', 'operator'] }, schema: { summary: 'Dashboard settings (map tiles)', tags: ['dashboard'], response: { 200: DashboardSettings, ...authErrors } } },
    async () => ({ tileUrl: ctx.config.dashboardTileUrl ?? null, tileAttribution: ctx.config.dashboardTileAttribution ?? null }),
  );
  const page = { config: { roles: 'public' as const } };

  app.get('/dashboard', page, async (_request, reply) => reply.redirect('/dashboard/', 301));

  app.get(
    '/dashboard/*',
    { ...page, schema: { params: Type.Object({ '*': Type.String({ maxLength: 200 }) }) } },
    async (request, reply) => {
      const asset = assets.get(request.params['*'] || 'index.html');
      if (!asset) return reply.code(404).send(errorBody('ROUTE_NOT_FOUND'));
      reply.headers(headers).header('etag', asset.etag).type(asset.type);
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );
};
