import { Type } from '@sinclair/typebox';
import type { App } from '../http/app.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { parcelOwnerScope, principalRef } from '../accounts/principal.js';
import type { ServerContext } from '../context.js';
import { cancelParcel } from './cancel.js';
import { ParcelView, parcelView } from './parcel-views.js';

export function cancelRoute(app: App, ctx: ServerContext): void {
  app.post(
    '/v1/parcels/:id/cancel',
    {
      config: { roles: ['admin', 'carrier'] },
      schema: { params: IdParams, response: { 200: ParcelView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const principal = principalOf(request);
      const parcel = await cancelParcel(ctx, request.params.id, principalRef(principal), parcelOwnerScope(principal));
      request.log.info({ parcelId: parcel.id }, 'parcel cancelled');
      return parcelView(parcel);
    },
  );
}
