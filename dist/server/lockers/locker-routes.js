import { LockerList, LockerView, RegisterLockerBody, RegisteredLockerView } from '../../shared/api/lockers.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { readLockers } from './locker-views.js';
import { registerLocker } from './register-locker.js';
import { principalOf } from '../http/auth.js';
import { principalRef } from '../accounts/principal.js';
/** Lockers: register one (with its controller's enrolment ticket), list them, read one. */
export const lockerRoutes = async (app, { ctx }) => {
    app.post('/v1/lockers', {
        config: { roles: ['admin', 'operator'] },
        schema: { body: RegisterLockerBody, response: { 201: RegisteredLockerView, ...authErrors } },
    }, async (request, reply) => {
        const enrolment = await registerLocker(ctx, request.body, principalRef(principalOf(request)));
        const [view] = await readLockers(ctx.db, enrolment.lockerId);
        request.log.info({ lockerId: enrolment.lockerId }, 'locker registered');
        return reply.code(201).send({ ...view, enrolment });
    });
    app.get('/v1/lockers', {
        config: { roles: ['admin', 'operator'] },
        schema: { response: { 200: LockerList, ...authErrors } },
    }, async () => ({ lockers: await readLockers(ctx.db) }));
    app.get('/v1/lockers/:id', {
        config: { roles: ['admin', 'operator', 'carrier'] },
        schema: { params: IdParams, response: { 200: LockerView, 404: ErrorResponse, ...authErrors } },
    }, async (request) => {
        const [view] = await readLockers(ctx.db, request.params.id);
        if (!view)
            throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: request.params.id });
        return view;
    });
};
//# sourceMappingURL=locker-routes.js.map