import { Type } from '@sinclair/typebox';
import {
  BookingBody,
  BookingView,
  DepositSessionBody,
  DepositSessionView,
  NotificationList,
  ParcelList,
  ParcelQuery,
  ParcelView,
  ParcelWithHistory,
  TimelineView,
} from '../../shared/api/parcels.js';
import { LockerId } from '../../shared/ids.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalOf } from '../http/auth.js';
import { parcelOwnerScope, principalRef } from '../accounts/principal.js';
import { bookParcel } from './booking.js';
import { cancelParcel } from './cancel.js';
import { openDepositSession } from './deposit-sessions.js';
import { extendPickupWindow } from './extend.js';
import { pageLimit } from '../http/page-cursor.js';
import { PARCEL_PAGE_DEFAULT, PARCEL_PAGE_MAX, listParcels } from './parcel-list.js';
import { parcelView, readNotifications, readParcel, readTimeline } from './parcel-views.js';

const LockerParams = Type.Object({ id: LockerId }, { additionalProperties: false });

/**
 * Parcels: book, find by reference, read (with history, notifications, timeline), extend the pickup window,
 * cancel; and a courier's deposit session at a locker. A carrier acts only on the parcels it booked.
 */
export const parcelRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/v1/parcels',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: { summary: 'Book a parcel', tags: ['parcels'],
        body: BookingBody,
        response: {
          201: BookingView,
          404: ErrorResponse,
          409: ErrorResponse,
          503: ErrorResponse,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const booking = await bookParcel(ctx, request.body, principalRef(principalOf(request)));
      const low = booking.lowCompartment === undefined ? {} : { lowCompartment: booking.lowCompartment };
      return reply.code(201).send({ ...parcelView(booking.parcel), dropoff: booking.dropoff, ...low });
    },
  );

  app.get(
    '/v1/parcels',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { summary: 'Find parcels', tags: ['parcels'],
        querystring: ParcelQuery,
        response: { 200: ParcelList, ...authErrors },
      },
    },
    // Newest first, filtered, a keyset page (server/parcels/parcel-list.ts); a carrier finds only its own.
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listParcels(ctx.db, filter, pageLimit(limit, PARCEL_PAGE_DEFAULT, PARCEL_PAGE_MAX), cursor, parcelOwnerScope(principalOf(request)));
    },
  );

  app.get(
    '/v1/parcels/:id',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { summary: 'Read a parcel with its history', tags: ['parcels'],
        params: IdParams,
        response: { 200: ParcelWithHistory, 404: ErrorResponse, ...authErrors },
      },
    },
    // A carrier reads only the parcels it booked; another carrier's parcel is "not found", never "forbidden".
    async (request) => readParcel(ctx, request.params.id, parcelOwnerScope(principalOf(request))),
  );

  app.get(
    '/v1/parcels/:id/notifications',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: { summary: 'List a parcel\'s notifications', tags: ['parcels'],
        params: IdParams,
        response: { 200: NotificationList, 404: ErrorResponse, ...authErrors },
      },
    },
    async (request) => ({ notifications: await readNotifications(ctx, request.params.id, parcelOwnerScope(principalOf(request))) }),
  );

  app.get(
    '/v1/parcels/:id/timeline',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { summary: 'Read a parcel\'s timeline', tags: ['parcels'],
        params: IdParams,
        response: {
          200: TimelineView,
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
      schema: { summary: 'Extend the pickup window', tags: ['parcels'], params: IdParams, response: { 200: ParcelView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const principal = principalOf(request);
      const parcel = await extendPickupWindow(ctx, request.params.id, principalRef(principal), parcelOwnerScope(principal));
      request.log.info({ parcelId: parcel.id, extensions: parcel.extensions }, 'pickup window extended');
      return parcelView(parcel);
    },
  );

  app.post(
    '/v1/parcels/:id/cancel',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: { summary: 'Cancel a booking', tags: ['parcels'], params: IdParams, response: { 200: ParcelView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const principal = principalOf(request);
      const parcel = await cancelParcel(ctx, request.params.id, principalRef(principal), parcelOwnerScope(principal));
      return parcelView(parcel);
    },
  );

  // A courier's one code for a van's worth of parcels at one locker (`:id` like the locker's other routes).
  app.post(
    '/v1/lockers/:id/deposit-sessions',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: { summary: 'Open a courier\'s deposit session', tags: ['parcels'],
        params: LockerParams,
        body: DepositSessionBody,
        response: { 201: DepositSessionView, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse, ...authErrors },
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
};
