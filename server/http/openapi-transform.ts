import type { RouteOptions } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.js';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from './idempotency-rules.js';
import { exampleOf, type JsonSchema } from './openapi-examples.js';

/** The name of the bearer security scheme in the document. */
export const BEARER_SCHEME = 'bearerAuth';

/**
 * Routes left out of the API document on purpose, each with the reason. Everything else must be documented
 * (test/server/openapi.test.ts fails for a route without summary or response schemas).
 */
export const INTERNAL_ROUTES: Readonly<Record<string, string>> = {
  'GET /dashboard': 'redirect to the dashboard\'s static files (a page for people, not an API)',
  'GET /dashboard/*': 'the dashboard\'s static files (HTML, CSS, JavaScript modules), not an API',
  'GET /v1/live': 'the dashboard\'s Server-Sent Events stream (text/event-stream), not a JSON API',
  'GET /openapi.json': 'this document itself',
  'GET /docs': 'the API reference page (@fastify/swagger-ui) and its static files',
};

/** Whether a route (method and URL pattern) is one of INTERNAL_ROUTES, the API page's own routes included. */
export function internalReason(method: string, url: string): string | undefined {
  if (url === '/docs' || url.startsWith('/docs/')) return INTERNAL_ROUTES['GET /docs'];
  return INTERNAL_ROUTES[`${method} ${url}`];
}

/** Codes of the catalogue answered with `status` (the codes a response of that status may carry). */
export function codesWithStatus(status: number): ErrorCode[] {
  return (Object.keys(ERRORS) as ErrorCode[]).filter((c) => ERRORS[c].status === status);
}

/** The error body restricted to `codes`, described with them (the document's view of ErrorResponse). */
export function errorSchemaFor(codes: readonly ErrorCode[]): JsonSchema {
  return {
    description: `Error. \`code\`: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: [...codes] },
          message: { type: 'string' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
    examples: [{ error: { code: codes[0], message: codes[0] ? ERRORS[codes[0]].message : '' } }],
  };
}

const plain = (schema: unknown): JsonSchema => JSON.parse(JSON.stringify(schema ?? {})) as JsonSchema;

const STATUS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No content', '301': 'Moved', '304': 'Not modified' };

/** Whether a POST route takes an Idempotency-Key (server/http/idempotency.ts decides the same way). */
function takesIdempotencyKey(method: string, route: RouteOptions): boolean {
  const config = (route.config ?? {}) as { roles?: unknown; idempotency?: boolean };
  return method === 'POST' && config.roles !== 'public' && config.idempotency !== false;
}

/**
 * @fastify/swagger's `transform`: the route's own TypeBox schema (summary, request, responses) with what every
 * route shares added in one place: the bearer security scheme and the roles admitted, the error responses with
 * the codes each status carries, the Idempotency-Key header on POSTs, and an example for the body and each answer
 * that has none. Internal routes are hidden. The route's schema is never changed (the document works on a copy).
 */
export function openapiTransform({ schema, url, route }: { schema: unknown; url: string; route: RouteOptions }): { schema: JsonSchema; url: string } {
  const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
  const original = (schema ?? {}) as JsonSchema;
  if (internalReason(method, url) !== undefined) return { schema: { ...original, hide: true }, url };
  const doc: JsonSchema = { ...original };
  const config = (route.config ?? {}) as { roles?: readonly string[] | 'public'; metricsToken?: boolean };
  const roles = config.roles;
  const rolesText = roles === 'public' ? 'Public: no token.' : `Roles: ${(roles ?? []).join(', ')}${config.metricsToken ? ' (or the METRICS_TOKEN)' : ''}.`;
  doc.description = [original.description, rolesText].filter(Boolean).join('\n\n');
  doc['x-roles'] = roles === 'public' ? [] : [...(roles ?? [])];
  doc.security = roles === 'public' ? [] : [{ [BEARER_SCHEME]: [] }];

  if (original.body) {
    const body = plain(original.body);
    if (!Array.isArray(body.examples)) body.examples = [exampleOf(body)];
    doc.body = body;
  }
  const responses: Record<string, JsonSchema> = {};
  const idempotent = takesIdempotencyKey(method, route);
  const extraErrors: Record<string, ErrorCode[]> = idempotent
    ? { '400': ['IDEMPOTENCY_KEY_INVALID'], '409': ['IDEMPOTENCY_KEY_IN_FLIGHT'], '422': ['IDEMPOTENCY_KEY_REUSED'] }
    : {};
  const declared = (original.response ?? {}) as Record<string, unknown>;
  const statuses = new Set([...Object.keys(declared), ...Object.keys(extraErrors)]);
  for (const status of statuses) {
    const code = Number(status);
    if (code >= 400) {
      // Every code of the catalogue with this status, the idempotency codes first on the POSTs that take a key.
      const codes = [...new Set([...(extraErrors[status] ?? []), ...codesWithStatus(code)])];
      responses[status] = errorSchemaFor(codes);
      continue;
    }
    const answer = plain(declared[status]);
    if (!Array.isArray(answer.examples) && answer.type !== 'null') answer.examples = [exampleOf(answer)];
    if (!answer.description) answer.description = STATUS_TEXT[status] ?? 'Answer';
    if (idempotent && code < 300) {
      answer.headers = {
        [REPLAYED_HEADER]: { type: 'string', enum: ['true'], description: 'Present on an answer replayed for a repeated Idempotency-Key.' },
      };
    }
    responses[status] = answer;
  }
  doc.response = responses;
  if (idempotent) {
    const headers = plain(original.headers ?? { type: 'object', properties: {} });
    (headers.properties as Record<string, JsonSchema>)[IDEMPOTENCY_HEADER] = {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,255}$',
      description:
        'Makes the POST safe to retry: the same key and body within 24 h return the first answer (with `Idempotent-Replayed: true`); another body is 422, a request still running with the key 409. Keys are per account.',
      examples: ['0b6f1f0e-3a5e-4c38-9d1b-1c7c2f4b8e11'],
    };
    doc.headers = headers;
  }
  return { schema: doc, url };
}
