import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../server/errors.js';
import { INTERNAL_ROUTES, internalReason } from '../../server/http/openapi-transform.js';
import { servedRoutes, type ServedRoute } from '../helpers/served-routes.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Json = Record<string, unknown>;
type Operation = {
  summary?: string;
  security?: Json[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { content?: Record<string, { schema?: Json; example?: unknown; examples?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json; example?: unknown; examples?: unknown }> }>;
  'x-roles'?: string[];
};

let t: TestServer;
let doc: Json & { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, Json>; schemas?: Json } };
let routes: ServedRoute[];

beforeAll(async () => {
  t = await startTestServer();
  const res = await t.server.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
  routes = servedRoutes(t.server.app);
});
afterAll(() => t.close());

const openapiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

/** Why a served route is not documented well enough, one line per problem (empty when it is). */
function problemsOf(method: string, url: string): string[] {
  const where = `${method} ${url}`;
  const op = doc.paths[openapiPath(url)]?.[method.toLowerCase()];
  if (!op) return [`${where}: not in the document (give it a schema with a summary and responses, or list it in INTERNAL_ROUTES with a reason)`];
  const out: string[] = [];
  if (!op.summary) out.push(`${where}: no summary (schema.summary)`);
  const responses = Object.entries(op.responses ?? {});
  const ok = responses.filter(([s]) => /^[23]/.test(s));
  if (ok.length === 0) out.push(`${where}: no success response schema (schema.response[2xx])`);
  for (const [status, r] of ok) {
    const media = Object.values(r.content ?? {})[0];
    if (!media?.schema && status !== '204' && status !== '304') out.push(`${where}: response ${status} has no schema`);
    else if (media && media.example === undefined && media.examples === undefined) out.push(`${where}: response ${status} has no example`);
  }
  const errors = responses.filter(([s]) => /^[45]/.test(s));
  if (errors.length === 0 && (op.security?.length ?? 0) > 0) out.push(`${where}: no error response (schema.response[4xx], e.g. ...authErrors)`);
  for (const [status, r] of errors) {
    const code = (Object.values(r.content ?? {})[0]?.schema as { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined)?.properties?.error?.properties?.code;
    if (!code?.enum?.length && !/^5/.test(status) && status !== '503') out.push(`${where}: error response ${status} does not list its codes (use ErrorResponse)`);
  }
  if (op.requestBody) {
    const media = Object.values(op.requestBody.content ?? {})[0];
    if (!media?.schema) out.push(`${where}: request body without schema`);
    else if (media.example === undefined && media.examples === undefined) out.push(`${where}: request body has no example`);
  }
  if (!Array.isArray(op.security)) out.push(`${where}: no security requirement`);
  return out;
}

describe('OpenAPI document at /openapi.json', () => {
  it('documents every route the server serves, or excludes it with a reason', () => {
    expect(routes.length).toBeGreaterThan(45);
    const problems = routes.filter((r) => internalReason(r.method, r.url) === undefined).flatMap((r) => problemsOf(r.method, r.url));
    expect(problems, `routes registered without a documented schema:\n${problems.join('\n')}`).toEqual([]);
    for (const reason of Object.values(INTERNAL_ROUTES)) expect(reason.length).toBeGreaterThan(10);
  });

  it('leaves the internal routes out', () => {
    for (const path of ['/dashboard', '/dashboard/*', '/v1/live', '/openapi.json', '/docs', '/docs/json']) expect(doc.paths[path], path).toBeUndefined();
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((doc.info as Json).title).toBeTruthy();
    expect((doc.info as Json).version).toMatch(/^\d+\.\d+\.\d+/);
    const schemes = doc.components.securitySchemes;
    expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const allowedMethods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(allowedMethods.has(method), `${method} ${path}`).toBe(true);
        const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort(), `${method} ${path} path parameters`).toEqual([...templated].sort());
        for (const p of op.parameters ?? []) {
          expect(['path', 'query', 'header', 'cookie'], `${method} ${path} ${p.name}`).toContain(p.in);
          if (p.in === 'path') expect(p.required, `${method} ${path} ${p.name}`).toBe(true);
          expect(p.schema, `${method} ${path} ${p.name}`).toBeTypeOf('object');
        }
        for (const [status, r] of Object.entries(op.responses ?? {})) {
          expect(status, `${method} ${path}`).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
          expect(r.description, `${method} ${path} ${status}`).toBeTruthy();
        }
        for (const s of op.security ?? []) for (const name of Object.keys(s)) expect(schemes[name], `${method} ${path} security ${name}`).toBeDefined();
        const id = (op as { operationId?: string }).operationId;
        if (id) {
          expect(operationIds.has(id), id).toBe(false);
          operationIds.add(id);
        }
      }
    }
    // Every $ref points at something in the document.
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
      expect(ref!.startsWith('#/'), ref).toBe(true);
      let node: unknown = doc;
      for (const part of ref!.slice(2).split('/')) node = (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      expect(node, ref).toBeDefined();
    }
    // JSON Schema 2020-12 (OpenAPI 3.1): no OpenAPI 3.0 `nullable`.
    expect(text).not.toContain('"nullable"');
  });

  it('states the bearer scheme and roles of a protected route, none on a public one', () => {
    const book = doc.paths['/v1/parcels']!.post!;
    expect(book.security).toEqual([{ bearerAuth: [] }]);
    expect(book['x-roles']).toEqual(['admin', 'carrier']);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
  });

  it('lists the codes of each error response from the catalogue, and the Idempotency-Key of POSTs', () => {
    const book = doc.paths['/v1/parcels']!.post!;
    const codes = (status: string) =>
      (Object.values(book.responses![status]!.content!)[0]!.schema as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum;
    expect(codes('409')).toEqual(expect.arrayContaining(['NO_FREE_COMPARTMENT', 'SIZE_NOT_OFFERED', 'IDEMPOTENCY_KEY_IN_FLIGHT']));
    expect(codes('422')).toContain('IDEMPOTENCY_KEY_REUSED');
    for (const status of ['400', '401', '403', '404', '409', '422', '429']) for (const c of codes(status)) expect(ERRORS[c as keyof typeof ERRORS].status).toBe(Number(status));
    expect(book.parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key')).toBeDefined();
    expect(book.requestBody?.content?.['application/json']?.schema).toBeDefined();
    // A route whose answer holds a credential takes no key.
    expect(doc.paths['/v1/accounts']!.post!.parameters?.find((p) => p.name === 'idempotency-key')).toBeUndefined();
  });
});

describe('API reference page at /docs', () => {
  it('serves swagger-ui from the server itself (no outside request), under its own CSP, without a token', async () => {
    const page = await t.server.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset, 'no asset from another origin').not.toMatch(/^(https?:)?\/\//);
      const res = await t.server.app.inject({ method: 'GET', url: new URL(asset, 'http://x/docs/').pathname });
      expect(res.statusCode, asset).toBe(200);
    }
    const initializer = await t.server.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain('./json');
    const json = await t.server.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json()).toMatchObject({ openapi: '3.1.0' });
  });
});
