import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { ERRORS, LockstepError, errorBody } from '../errors.js';
import type { Principal } from '../accounts/principal.js';
import { classifyStorageError, storageErrorCode, STORAGE_RETRY_AFTER_SEC } from '../store/storage-errors.js';
import { registerAuth } from './auth.js';
import { lazySerializers } from './lazy-serializers.js';
import { RequestLogController } from './request-log.js';
import { registerRateLimits, type RateLimitSettings } from './rate-limit.js';
import { registerSecurityHeaders, securityHeaders, type SecurityHeaderSettings } from './security-headers.js';
// Operator sign-in (issue 19).
import type { SignInSessions } from '../accounts/sessions.js';
import { registerSessionCookies } from './session-cookie.js';

const HTTP_BODY_LIMIT = 64 * 1024;

/** Fastify framework errors and the catalogue code each becomes. */
const FRAMEWORK_ERRORS: Record<string, keyof typeof ERRORS> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
};

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpAppOptions {
  log: Logger;
  clock: Clock;
  /** The principal behind a bearer token, or null. */
  authenticate(token: string): Promise<Principal | null>;
  rateLimits: RateLimitSettings;
  /** Whether a bearer token is the metrics scraper's token (admitted only on routes with `metricsToken`). */
  isMetricsToken?(token: string): boolean;
  /** Called with every finished request (not long-lived streams): route pattern, method, status, seconds. */
  observeRequest?(labels: { route: string; method: string; status: string }, seconds: number): void;
  /** nosniff on every response; HSTS when a max age is set (default: none). */
  securityHeaders?: SecurityHeaderSettings;
  /** Operator sign-in (issue 19): cookie sessions beside bearer tokens. */
  sessions?: SignInSessions;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Builds every route's response serializers now (they are built on first use); returns how many. */
    buildResponseSerializers(): number;
  }
  interface FastifyContextConfig {
    /** A long-lived stream (the live dashboard): its duration is not request latency, so it is not observed. */
    streaming?: boolean;
  }
}

/** Request ids: random, so they stay unique across restarts and processes; returned as `x-request-id`. */
const requestId = () => randomBytes(8).toString('hex');

/** The Fastify instance with the error catalogue, JSON-only bodies, bearer auth and rate limits in place. */
export async function createHttpApp(options: HttpAppOptions): Promise<App> {
  const { log } = options;
  const headers = securityHeaders(options.securityHeaders ?? { hstsMaxAgeSec: 0 });
  const serializers = lazySerializers();
  const app = Fastify({
    loggerInstance: log,
    genReqId: requestId,
    // Request lines at debug: at info the log tells what happened to parcels and lockers (server/domain-log.ts).
    logController: new RequestLogController(),
    bodyLimit: HTTP_BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaController: { compilersFactory: { buildSerializer: serializers.factory } },
    // Errors the router raises before any route (bad percent-encoding, an over-long path parameter) get the
    // catalogue shape too.
    frameworkErrors: (err, _request, reply) => {
      const code = err.code === 'FST_ERR_BAD_URL' ? 'BAD_URL' : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URL_TOO_LONG' : 'INTERNAL';
      void (reply as FastifyReply).headers(headers).code(ERRORS[code].status).send(errorBody(code));
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.decorate('buildResponseSerializers', serializers.buildAll);
  registerSecurityHeaders(app, headers);
  // JSON only: a body in any other type is refused with UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  // Every log line of a request carries its id (`reqId`), and the locker id when the route is about one locker.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const url = request.routeOptions.url;
    const params = request.params as Record<string, unknown> | undefined;
    if (url?.startsWith('/v1/lockers/:id') && typeof params?.id === 'string') {
      request.log = request.log.child({ lockerId: params.id });
      // Fastify logs "request completed" through the reply's logger.
      reply.log = request.log;
    }
  });
  const observe = options.observeRequest;
  if (observe) {
    app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.config.streaming) return;
      observe({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }
  const limit = await registerRateLimits(app, options.rateLimits, options.clock);
  await registerSessionCookies(app);
  registerAuth(app, {
    authenticate: options.authenticate,
    limit,
    ...(options.isMetricsToken ? { isMetricsToken: options.isMetricsToken } : {}),
    ...(options.sessions ? { sessions: options.sessions } : {}),
  });

  app.setErrorHandler((err: FastifyError | LockstepError, request, reply) => {
    if (err instanceof LockstepError) {
      return reply.code(ERRORS[err.code].status).send(errorBody(err.code, err.details));
    }
    if (err.validation) {
      const first = err.validation[0];
      return reply.code(400).send(
        errorBody('VALIDATION_FAILED', {
          where: err.validationContext,
          path: first?.instancePath || '/',
          problem: first?.message ?? 'invalid',
        }),
      );
    }
    const mapped = err.code ? FRAMEWORK_ERRORS[err.code] : undefined;
    if (mapped) return reply.code(ERRORS[mapped].status).send(errorBody(mapped));
    // The storage refused the write (disk full, read-only, unreachable): not a bug; the client may retry later.
    const storage = classifyStorageError(err);
    if (storage) {
      request.log.error({ err, code: storageErrorCode(err), failure: storage }, 'storage refused the request\'s writes');
      return reply.code(ERRORS[storage].status).header('retry-after', String(STORAGE_RETRY_AFTER_SEC)).send(errorBody(storage));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL'));
  });
  app.setNotFoundHandler({}, (_request, reply) => reply.code(404).send(errorBody('ROUTE_NOT_FOUND')));
  return app;
}
