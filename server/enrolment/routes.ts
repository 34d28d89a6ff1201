import { Type } from '@sinclair/typebox';
import { DevicePublicKey } from '../../shared/broker-credentials.js';
import { LockerId } from '../../shared/ids.js';
import type { App } from '../http/app.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalRef } from '../accounts/principal.js';
import type { ServerContext } from '../context.js';
import { enrolDevice, reEnrol, type LockerAccess } from './enrol.js';

export const EnrolmentView = Type.Object({
  lockerId: Type.String(),
  token: Type.String(),
  expiresAt: Type.Integer(),
});

const EnrolBody = Type.Object(
  { lockerId: LockerId, token: Type.String({ minLength: 10, maxLength: 200 }), publicKey: DevicePublicKey },
  { additionalProperties: false },
);

export function enrolmentRoutes(app: App, ctx: ServerContext, mqttUrl: () => string, access: LockerAccess): void {
  app.post(
    '/v1/enrol',
    {
      // The device has no account: the single-use token is its credential (anonymous rate limits apply).
      config: { roles: 'public' },
      schema: {
        body: EnrolBody,
        response: {
          200: Type.Object({
            lockerId: Type.String(),
            mqttUrl: Type.String(),
            lastSeq: Type.Integer(),
            // Only with a broker that keeps its own accounts (Mosquitto dynamic security): shown once.
            broker: Type.Optional(Type.Object({ username: Type.String(), password: Type.String() })),
          }),
          400: ErrorResponse,
          403: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const broker = await enrolDevice(ctx, request.body.lockerId, request.body.token, request.body.publicKey, access);
      // A replacement controller continues the locker's event numbering, so the server never takes its new
      // events for duplicates of the old controller's.
      const last = await ctx.db
        .selectFrom('device_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('locker_id', '=', request.body.lockerId)
        .executeTakeFirst();
      return { lockerId: request.body.lockerId, mqttUrl: mqttUrl(), lastSeq: Number(last?.seq ?? 0), ...(broker ? { broker } : {}) };
    },
  );

  app.post(
    '/v1/lockers/:id/re-enrol',
    {
      // Admin only: whoever enrols a controller receives the locker's PIN key and codes.
      config: { roles: ['admin'] },
      schema: { params: IdParams, response: { 201: EnrolmentView, 404: ErrorResponse, ...authErrors } },
    },
    async (request, reply) => {
      const issued = await reEnrol(ctx, request.params.id, principalRef(principalOf(request)), access);
      return reply.code(201).send({ lockerId: request.params.id, ...issued });
    },
  );
}
