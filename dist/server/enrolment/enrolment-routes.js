import { EnrolBody, EnrolView, EnrolmentTicket } from '../../shared/api/lockers.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import { enrolDevice, reEnrol } from './enrol.js';
/** A device enrols with its single-use token; an admin re-enrols a locker (a replacement controller). */
export const enrolmentRoutes = async (app, { ctx, mqttUrl, lockerAccess }) => {
    app.post('/v1/enrol', {
        // The device has no account: the single-use token is its credential. Attempts count against the caller's
        // address like requests with a bad bearer token (RATE_LIMIT_ANONYMOUS_PER_MINUTE); accepted ones are given back.
        config: { roles: 'public', limitRefusalsByAddress: true },
        schema: { body: EnrolBody, response: { 200: EnrolView, 400: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse } },
    }, async (request) => {
        const broker = await enrolDevice(ctx, request.body.lockerId, request.body.token, request.body.publicKey, lockerAccess);
        // A replacement controller continues the locker's event numbering, so the server never takes its new
        // events for duplicates of the old controller's.
        const last = await ctx.db
            .selectFrom('device_events')
            .select((eb) => eb.fn.max('seq').as('seq'))
            .where('locker_id', '=', request.body.lockerId)
            .executeTakeFirst();
        return { lockerId: request.body.lockerId, mqttUrl: mqttUrl(), lastSeq: Number(last?.seq ?? 0), ...(broker ? { broker } : {}) };
    });
    app.post('/v1/lockers/:id/re-enrol', {
        // Admin only: whoever enrols a controller receives the locker's PIN key and codes.
        config: { roles: ['admin'] },
        schema: { params: IdParams, response: { 201: EnrolmentTicket, 404: ErrorResponse, ...authErrors } },
    }, async (request, reply) => {
        const issued = await reEnrol(ctx, request.params.id, principalRef(principalOf(request)), lockerAccess);
        return reply.code(201).send({ lockerId: request.params.id, ...issued });
    });
};
//# sourceMappingURL=enrolment-routes.js.map