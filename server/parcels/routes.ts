import { Type } from '@sinclair/typebox';
import { CompartmentSize } from '../../shared/compartment-sizes.js';
import { LockerId } from '../../shared/ids.js';
import type { App } from '../http/app.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalOf } from '../http/auth.js';
import { parcelOwnerScope, principalRef } from '../accounts/principal.js';
import type { ServerContext } from '../context.js';
import { bookParcel } from './booking.js';
import { extendPickupWindow } from './extend.js';
import {
  Code,
  HistoryEntry,
  NotificationView,
  ParcelKindSchema,
  ParcelStatusSchema,
  ParcelView,
  Recipient,
  parcelView,
  readNotifications,
  readParcel,
  readTimeline,
} from './parcel-views.js';

const BookingBody = Type.Object(
  {
    lockerId: LockerId,
    size: CompartmentSize,
    recipient: Recipient,
    reference: Type.String({ minLength: 1, maxLength: 100 }),
    /** `delivery` (default), `return` or `p2p`; the last two need `sender`. */
    kind: Type.Optional(ParcelKindSchema),
    sender: Type.Optional(Recipient),
  },
  { additionalProperties: false },
);

export function parcelRoutes(app: App, ctx: ServerContext): void {
  app.post(
    '/v1/parcels',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: {
        body: BookingBody,
        response: {
          201: Type.Intersect([ParcelView, Type.Object({ dropoff: Code })]),
          404: ErrorResponse,
          409: ErrorResponse,
          503: ErrorResponse,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const booking = await bookParcel(ctx, request.body, principalRef(principalOf(request)));
      request.log.info({ parcelId: booking.parcel.id, lockerId: booking.parcel.locker_id }, 'parcel booked');
      return reply.code(201).send({ ...parcelView(booking.parcel), dropoff: booking.dropoff });
    },
  );

  app.get(
    '/v1/parcels',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: {
        querystring: Type.Object({ reference: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ parcels: Type.Array(ParcelView) }), ...authErrors },
      },
    },
    // Find parcels by the carrier's reference, newest first; a carrier finds only its own.
    async (request) => {
      let q = ctx.db.selectFrom('parcels').selectAll().where('reference', '=', request.query.reference).orderBy('created_at', 'desc').limit(50);
      const owner = parcelOwnerScope(principalOf(request));
      if (owner !== undefined) q = q.where('created_by', '=', owner);
      return { parcels: (await q.execute()).map(parcelView) };
    },
  );

  app.get(
    '/v1/parcels/:id',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: {
        params: IdParams,
        response: { 200: Type.Intersect([ParcelView, Type.Object({ history: Type.Array(HistoryEntry) })]), 404: ErrorResponse, ...authErrors },
      },
    },
    // A carrier reads only the parcels it booked; another carrier's parcel is "not found", never "forbidden".
    async (request) => readParcel(ctx, request.params.id, parcelOwnerScope(principalOf(request))),
  );

  app.get(
    '/v1/parcels/:id/notifications',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ notifications: Type.Array(NotificationView) }), 404: ErrorResponse, ...authErrors },
      },
    },
    async (request) => ({ notifications: await readNotifications(ctx, request.params.id, parcelOwnerScope(principalOf(request))) }),
  );

  app.get(
    '/v1/parcels/:id/timeline',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({ parcelId: Type.String(), status: ParcelStatusSchema, entries: Type.Array(HistoryEntry) }),
          404: ErrorResponse,
          ...authErrors,
        },
      },
    },
    async (request) => readTimeline(ctx, request.params.id, parcelOwnerScope(principalOf(request))),
  );

  app.post(
    '/v1/parcels/:id/extend',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { params: IdParams, response: { 200: ParcelView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const principal = principalOf(request);
      const parcel = await extendPickupWindow(ctx, request.params.id, principalRef(principal), parcelOwnerScope(principal));
      request.log.info({ parcelId: parcel.id, extensions: parcel.extensions }, 'pickup window extended');
      return parcelView(parcel);
    },
  );
}
