/**
 * The screen's HTTP server, inside the agent: the page (device/screen/public/), the catalogues (i18n/) and a small
 * local API (docs/screen.md, "Local API"). Loopback only: it listens on 127.0.0.1, refuses any other remote
 * address, and refuses a Host or Origin header that is not this server's own (a web page elsewhere cannot reach
 * it through the kiosk browser by DNS rebinding or a cross-site POST). Every refusal is a coded JSON error.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ScreenController } from './screen-controller.js';
import { SCREEN_LANGUAGES } from './screen-controller.js';

/** Stable codes of the screen server's refusals. */
export const SCREEN_ERRORS = {
  SCREEN_NOT_LOOPBACK: { status: 403, message: 'the screen answers only on loopback' },
  SCREEN_FOREIGN_HOST: { status: 421, message: 'the Host header does not name this screen' },
  SCREEN_FOREIGN_ORIGIN: { status: 403, message: 'requests from another origin are refused' },
  SCREEN_NOT_FOUND: { status: 404, message: 'no such page or API' },
  SCREEN_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed here' },
  SCREEN_UNSUPPORTED_MEDIA: { status: 415, message: 'send application/json' },
  SCREEN_BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  SCREEN_BAD_REQUEST: { status: 400, message: 'the request body does not match the API' },
} as const;
export type ScreenErrorCode = keyof typeof SCREEN_ERRORS;

const MAX_BODY = 4096;
const PUBLIC = new URL('./public/', import.meta.url);
const I18N = new URL('./i18n/', import.meta.url);

/** The only files served: a fixed list, so no path from a request ever reaches the file system. */
const STATIC: Record<string, { file: URL; type: string }> = {
  '/': { file: new URL('index.html', PUBLIC), type: 'text/html; charset=utf-8' },
  '/screen.css': { file: new URL('screen.css', PUBLIC), type: 'text/css; charset=utf-8' },
  '/screen.js': { file: new URL('screen.js', PUBLIC), type: 'text/javascript; charset=utf-8' },
  ...Object.fromEntries(SCREEN_LANGUAGES.map((l) => [`/i18n/${l}.json`, { file: new URL(`${l}.json`, I18N), type: 'application/json; charset=utf-8' }])),
};

const Bodies = {
  '/api/code': Type.Object({ code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9A-Za-z]+$' }) }, { additionalProperties: false }),
  '/api/scan': Type.Object({ data: Type.String({ minLength: 1, maxLength: 2560 }) }, { additionalProperties: false }),
  '/api/action': Type.Object(
    { action: Type.Union(['start', 'cancel', 'doesNotFit', 'next', 'skip', 'finish', 'moreTime'].map((a) => Type.Literal(a))) },
    { additionalProperties: false },
  ),
  '/api/language': Type.Object({ language: Type.Union(SCREEN_LANGUAGES.map((l) => Type.Literal(l))) }, { additionalProperties: false }),
};
const checks = {
  '/api/code': TypeCompiler.Compile(Bodies['/api/code']),
  '/api/scan': TypeCompiler.Compile(Bodies['/api/scan']),
  '/api/action': TypeCompiler.Compile(Bodies['/api/action']),
  '/api/language': TypeCompiler.Compile(Bodies['/api/language']),
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export interface ScreenServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the screen on 127.0.0.1:`port` (0: any free port). */
export async function startScreenServer(screen: ScreenController, port: number): Promise<ScreenServer> {
  const streams = new Set<ServerResponse>();
  let ownPort = port;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) fail(res, 'SCREEN_BAD_REQUEST');
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) return fail(res, 'SCREEN_NOT_LOOPBACK');
    const own = [`127.0.0.1:${ownPort}`, `localhost:${ownPort}`, `[::1]:${ownPort}`];
    if (!own.includes(req.headers.host ?? '')) return fail(res, 'SCREEN_FOREIGN_HOST');
    const origin = req.headers.origin;
    if (origin !== undefined && !own.some((h) => origin === `http://${h}`)) return fail(res, 'SCREEN_FOREIGN_ORIGIN');
    const path = new URL(req.url ?? '/', 'http://screen').pathname;

    if (req.method === 'GET' || req.method === 'HEAD') {
      const file = STATIC[path];
      if (file) {
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type });
        res.end(req.method === 'HEAD' ? undefined : await readFile(file.file));
        return;
      }
      if (path === '/api/state') return json(res, 200, screen.state());
      if (path === '/api/events') return stream(res);
      return fail(res, path in checks ? 'SCREEN_METHOD_NOT_ALLOWED' : 'SCREEN_NOT_FOUND');
    }
    if (req.method !== 'POST') return fail(res, 'SCREEN_METHOD_NOT_ALLOWED');
    if (!(path in checks)) return fail(res, 'SCREEN_NOT_FOUND');
    // JSON only: a cross-site form cannot send it without a preflight, which the Origin check refuses.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return fail(res, 'SCREEN_UNSUPPORTED_MEDIA');
    const raw = await readBody(req);
    if (raw === null) return fail(res, 'SCREEN_BODY_TOO_LARGE');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(res, 'SCREEN_BAD_REQUEST');
    }
    const route = path as keyof typeof checks;
    if (!checks[route].Check(body)) return fail(res, 'SCREEN_BAD_REQUEST');
    switch (route) {
      case '/api/code':
        return json(res, 200, await screen.submitCode((body as Static<(typeof Bodies)['/api/code']>).code));
      case '/api/scan':
        return json(res, 200, await screen.scan((body as Static<(typeof Bodies)['/api/scan']>).data));
      case '/api/action':
        await screen.act((body as Static<(typeof Bodies)['/api/action']>).action as Parameters<ScreenController['act']>[0]);
        return json(res, 200, { ok: true });
      case '/api/language':
        screen.setLanguage((body as Static<(typeof Bodies)['/api/language']>).language as Parameters<ScreenController['setLanguage']>[0]);
        return json(res, 200, { ok: true });
    }
  }

  /** Server-Sent Events: the state now, then after each change; a comment every 15 s keeps the line open. */
  function stream(res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    streams.add(res);
    const unsubscribe = screen.subscribe((state) => res.write(`data: ${JSON.stringify(state)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  ownPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${ownPort}/`,
    port: ownPort,
    async close() {
      for (const s of streams) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, code: ScreenErrorCode): void {
  const e = SCREEN_ERRORS[code];
  json(res, e.status, { error: { code, message: e.message } });
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) return null;
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
