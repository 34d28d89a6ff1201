import { Type } from '@sinclair/typebox';
import { MAX_BATCH_ITEMS } from '../../shared/messages.js';
import { LockerId, OpaqueId } from '../../shared/ids.js';
import type { App } from '../http/app.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import { principalOf } from '../http/auth.js';
import { parcelOwnerScope, principalRef } from '../accounts/principal.js';
import type { ServerContext } from '../context.js';
import { openDepositSession } from './deposit-sessions.js';

// `:id` like the locker's other routes (one parameter name per path position).
const Params = Type.Object({ id: LockerId }, { additionalProperties: false });
const Body = Type.Object(
  { parcelIds: Type.Array(OpaqueId, { minItems: 1, maxItems: MAX_BATCH_ITEMS, uniqueItems: true }) },
  { additionalProperties: false },
);
const SessionView = Type.Object({
  sessionId: Type.String(),
  lockerId: Type.String(),
  code: Type.Object({ pin: Type.String(), qr: Type.String() }),
  expiresAt: Type.Integer(),
  parcels: Type.Array(Type.Object({ parcelId: Type.String(), compartmentId: Type.String() })),
});

/** POST /v1/lockers/:id/deposit-sessions: a courier's one code for a van's worth of parcels at one locker. */
export function depositSessionRoutes(app: App, ctx: ServerContext): void {
  app.post(
    '/v1/lockers/:id/deposit-sessions',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: {
        params: Params,
        body: Body,
        response: { 201: SessionView, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse, ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const session = await openDepositSession(ctx, {
        lockerId: request.params.id,
        parcelIds: request.body.parcelIds,
        ownedBy: parcelOwnerScope(principal),
        principalRef: principalRef(principal),
      });
      request.log.info({ sessionId: session.sessionId, lockerId: session.lockerId, parcels: session.parcels.length }, 'deposit session opened');
      return reply.code(201).send(session);
    },
  );
}
