import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { ERRORS, LockstepError, errorBody } from '../errors.js';
import { registerAuth } from './auth.js';

export const HTTP_BODY_LIMIT = 64 * 1024;

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

/** The Fastify instance with the error catalogue, JSON-only bodies and bearer auth in place. */
export function createHttpApp(log: Logger, adminToken: string): App {
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: HTTP_BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  // JSON only: a body in any other type is refused with UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  registerAuth(app, adminToken);

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
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL'));
  });
  app.setNotFoundHandler({}, (_request, reply) => reply.code(404).send(errorBody('ROUTE_NOT_FOUND')));
  return app;
}
