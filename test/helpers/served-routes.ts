import type { FastifyInstance } from 'fastify';

export interface ServedRoute {
  method: string;
  /** The route pattern as registered, e.g. `/v1/lockers/:id`. */
  url: string;
}

/**
 * Every route the app serves (HEAD left out: it follows GET), read from Fastify's `printRoutes` tree, where each
 * line is one path segment below its parent (`├── /v1/lockers (GET, POST)`, then `│   └── /:id (GET)`).
 */
export function servedRoutes(app: Pick<FastifyInstance, 'printRoutes'>): ServedRoute[] {
  const out: ServedRoute[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line) ?? /^([│ ]*)[├└]── (\S+)$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const segment = m[2] ?? '';
    const url = `${parent}${segment.startsWith('/') || !parent || parent.endsWith('/') ? '' : '/'}${segment}`;
    stack[depth] = url;
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim()).filter((x) => x && x !== 'HEAD')) out.push({ method, url });
  }
  return out;
}
