import { LogController } from 'fastify';
/**
 * Fastify's per-request lines at debug instead of info: at info the log tells what happened to parcels, alarms and
 * lockers (server/domain-log.ts), not every poll of the dashboard. Failed requests keep Fastify's own lines.
 */
export class RequestLogController extends LogController {
    incomingRequest(request) {
        request.log.debug({ req: request }, 'incoming request');
    }
    requestCompleted(error, request, reply, metadata) {
        if (error) {
            super.requestCompleted(error, request, reply, metadata);
            return;
        }
        reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
}
//# sourceMappingURL=request-log.js.map