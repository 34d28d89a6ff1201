import { RetireLockerBody, RetiredLockerView } from '../../shared/api/lockers.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { principalOf } from '../http/auth.js';
import { principalRef } from '../accounts/principal.js';
import { retireLocker } from './retire-locker.js';

/** POST /v1/lockers/:id/retire (admin): a locker leaves the fleet for good (server/lockers/retire-locker.ts). */
export const retireRoutes: RoutePlugin = async (app, { ctx, lockerAccess }) => {
  app.post(
    '/v1/lockers/:id/retire',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Retire a locker',
        description:
          'Takes an empty locker out of the fleet for good: its key and broker account are removed (MQTT sign-in refused), live grants revoked, compartments out of service; it stays readable by id and in history, hidden from the fleet listing and dashboard. Refused with 409 LOCKER_NOT_EMPTY while a parcel is booked into it, in it, or waiting in it for collection.',
        tags: ['lockers'],
        params: IdParams,
        body: RetireLockerBody,
        response: { 200: RetiredLockerView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
    },
    async (request) => retireLocker(ctx, request.params.id, principalRef(principalOf(request)), request.body?.reason, lockerAccess),
  );
};
