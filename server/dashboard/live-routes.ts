import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { App } from '../http/app.js';
import { authErrors } from '../http/schemas.js';
import type { LiveHub } from './live-hub.js';

/** A client that reads slower than the fleet changes is cut off (it reconnects and gets a fresh snapshot). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

/**
 * GET /v1/live (admin, operator): Server-Sent Events. The token travels in the Authorization header like on
 * every other route, so the dashboard reads the stream with fetch() (EventSource cannot send headers, and a
 * token in the URL would end up in logs and history). First `event: snapshot`, then at most one `event: update`
 * per LIVE_PUSH_INTERVAL_MS with what changed; a comment line every 15 s keeps proxies from closing it.
 */
export function liveRoutes(app: App, hub: LiveHub): void {
  const open = new Set<PassThrough>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });

  app.get('/v1/live', { config: { roles: ['admin', 'operator'], streaming: true }, schema: { response: { 200: Type.Unknown({ description: 'text/event-stream' }), ...authErrors } } }, async (request, reply) => {
    const stream = new PassThrough();
    open.add(stream);
    const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    const unsubscribe = hub.subscribe((event, data) => {
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
}
