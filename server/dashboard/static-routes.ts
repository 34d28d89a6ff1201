import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { App } from '../http/app.js';
import { errorBody } from '../errors.js';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Scripts and styles come only from this server; nothing inline, no frames, no other origins. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file under public/, read once at start: only these paths are ever served (no traversal possible). */
function loadAssets(dir: string, prefix = ''): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) {
      for (const [k, v] of loadAssets(path.join(dir, entry.name), `${rel}/`)) assets.set(k, v);
      continue;
    }
    const type = TYPES[path.extname(entry.name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, entry.name));
    assets.set(rel, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

/**
 * The operator dashboard: static HTML, CSS and JavaScript modules under /dashboard/, public (they hold no data).
 * Every piece of data comes from the API with the operator's bearer token.
 */
export function dashboardStaticRoutes(app: App): void {
  const assets = loadAssets(PUBLIC_DIR);
  const page = { config: { roles: 'public' as const } };

  app.get('/dashboard', page, async (_request, reply) => reply.redirect('/dashboard/', 301));

  app.get(
    '/dashboard/*',
    { ...page, schema: { params: Type.Object({ '*': Type.String({ maxLength: 200 }) }) } },
    async (request, reply) => {
      const asset = assets.get(request.params['*'] || 'index.html');
      if (!asset) return reply.code(404).send(errorBody('ROUTE_NOT_FOUND'));
      reply.headers(SECURITY_HEADERS).header('etag', asset.etag).type(asset.type);
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );
}
