import { Type } from '@sinclair/typebox';
import { CompartmentId } from '../../shared/ids.js';
import { CompartmentSize } from '../../shared/compartment-sizes.js';
import type { App } from '../http/app.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { LockerView, readLockers } from './locker-views.js';
import { registerLocker } from './register-locker.js';
import { principalOf } from '../http/auth.js';
import { principalRef } from '../accounts/principal.js';
import { EnrolmentView } from '../enrolment/routes.js';
import { depositSessionRoutes } from '../parcels/deposit-sessions-routes.js';

const RegisterBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    location: Type.Object(
      { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
      { additionalProperties: false },
    ),
    compartments: Type.Array(Type.Object({ id: CompartmentId, size: CompartmentSize }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 512,
    }),
  },
  { additionalProperties: false },
);

export function lockerRoutes(app: App, ctx: ServerContext): void {
  // A courier's batch deposit is opened at a locker: POST /v1/lockers/:id/deposit-sessions.
  depositSessionRoutes(app, ctx);
  app.post(
    '/v1/lockers',
    {
      config: { roles: ['admin', 'operator'] },
      schema: {
        body: RegisterBody,
        response: { 201: Type.Intersect([LockerView, Type.Object({ enrolment: EnrolmentView })]), ...authErrors },
      },
    },
    async (request, reply) => {
      const enrolment = await registerLocker(ctx, request.body, principalRef(principalOf(request)));
      const [view] = await readLockers(ctx.db, enrolment.lockerId);
      request.log.info({ lockerId: enrolment.lockerId }, 'locker registered');
      return reply.code(201).send({ ...(view as LockerView), enrolment });
    },
  );

  app.get(
    '/v1/lockers',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { response: { 200: Type.Object({ lockers: Type.Array(LockerView) }), ...authErrors } },
    },
    async () => ({ lockers: await readLockers(ctx.db) }),
  );

  app.get(
    '/v1/lockers/:id',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { params: IdParams, response: { 200: LockerView, 404: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const [view] = await readLockers(ctx.db, request.params.id);
      if (!view) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: request.params.id });
      return view;
    },
  );
}
