import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { BEARER_SCHEME, openapiTransform } from './openapi-transform.js';

export interface OpenapiOptions {
  /** The server's version, shown as the document's `info.version`. */
  version: string;
}

/** Where the API reference page lives; the document is also at /openapi.json. */
export const DOCS_PREFIX = '/docs';

/**
 * The swagger-ui page's own CSP (its static files only; the API's JSON answers need none), without
 * `upgrade-insecure-requests` (the server speaks plain HTTP behind or without a TLS proxy) and without the
 * external validator badge: the page loads nothing from outside the server, so it works offline. The API's own
 * headers (security-headers.ts: nosniff, HSTS) apply to it as to every answer; they set no CSP of their own.
 */
function docsCsp(csp: { script: string[]; style: string[] }): string {
  return [
    "default-src 'self'",
    "base-uri 'self'",
    "font-src 'self' data:",
    "frame-ancestors 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    `script-src 'self' ${csp.script.join(' ')}`,
    "script-src-attr 'none'",
    // swagger-ui sets style attributes from its scripts; scripts stay strictly 'self'.
    `style-src 'self' 'unsafe-inline' ${csp.style.join(' ')}`,
    "connect-src 'self'",
  ].join('; ');
}

/**
 * OpenAPI 3.1 generated from the routes' TypeBox schemas (@fastify/swagger, registered before every route so it
 * sees them all), served at GET /openapi.json, and the API reference page at /docs (@fastify/swagger-ui: its
 * files come from node_modules, so it works offline). Both are public: the document describes the API, it holds
 * no data. What every route shares (security, roles, error codes, Idempotency-Key, examples) is added by
 * openapiTransform.
 */
export const openapiPlugin: FastifyPluginAsync<OpenapiOptions> = async (app, { version }) => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lockstep API',
        version,
        description:
          'Parcel lockers: book, track, cancel and extend parcels (carriers); register, watch and command lockers (operators); accounts, keys and audit (admins). Errors are `{"error": {"code", "message", "details"?}}`: match on `code`. See docs/http-api.md.',
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An account token (or the bootstrap admin token).' },
        },
      },
      tags: [
        { name: 'parcels', description: 'Bookings and their lifecycle' },
        { name: 'lockers', description: 'Lockers, enrolment and commands' },
        { name: 'alarms', description: 'Alarms raised by lockers and the server' },
        { name: 'accounts', description: 'Accounts, tokens and webhooks' },
        { name: 'admin', description: 'Signing keys, audit log, broker hooks' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
    transform: ({ schema, url, route }) => openapiTransform({ schema, url, route: route as RouteOptions }),
  });

  app.get('/openapi.json', { config: { roles: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(app.swagger()),
  );

  await app.register(async (docs) => {
    // The page and its static files are public: they hold no data (the document is public too).
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), roles: 'public' };
    });
    await docs.register(fastifySwaggerUi, {
      routePrefix: DOCS_PREFIX,
      uiConfig: { validatorUrl: null, docExpansion: 'list', deepLinking: true },
      staticCSP: true,
      transformStaticCSP: () => docsCsp(docs.swaggerCSP),
    });
  });
};

// @fastify/swagger must sit on the root app to see the routes of every plugin (what fastify-plugin does).
(openapiPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
