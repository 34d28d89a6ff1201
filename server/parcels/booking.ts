import { randomUUID } from 'node:crypto';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import type { ParcelKind } from '../../shared/api/parcels.js';
import type { ParcelRow } from '../store/schema.js';

interface Recipient {
  phone?: string;
  email?: string;
}

export interface BookingRequest {
  lockerId: string;
  size: CompartmentSize;
  recipient: Recipient;
  reference: string;
  /** `delivery` (default), `return` or `p2p`: the last two are dropped off by `sender`. */
  kind?: ParcelKind;
  /** Who drops the parcel off (return, p2p): the carrier's system forwards the drop-off code to them. */
  sender?: Recipient;
  /** Prefer a low compartment (reachable from a wheelchair). */
  accessible?: boolean;
}

export interface Booking {
  parcel: ParcelRow;
  dropoff: { pin: string; qr: string };
  /** Set when the booking asked `accessible`: whether the compartment is a low one. */
  lowCompartment?: boolean;
}

/**
 * Books a parcel: reserves the smallest free compartment that fits, issues its drop-off and pickup grants,
 * and queues both for the locker in one new desired-state version. The drop-off PIN is returned once.
 * Bookings arriving together share one transaction and one durable commit (booking-queue.ts, written by
 * booking-group.ts); this resolves only after the commit that holds this booking.
 */
export async function bookParcel(ctx: ServerContext, req: BookingRequest, principalId: string): Promise<Booking> {
  const kind = req.kind ?? 'delivery';
  if (kind !== 'delivery' && !req.sender) throw new LockstepError('SENDER_REQUIRED', { kind });
  const parcelId = `p_${randomUUID().replaceAll('-', '')}`;
  const outcome = await ctx.writers.bookings.add({ lockerId: req.lockerId, req, kind, parcelId, principalId });
  if (!outcome.ok) throw outcome.err;
  const { parcel, dropoff, low, uow } = outcome.booked;
  await uow.committed();
  return {
    parcel,
    dropoff: { pin: dropoff.pin, qr: dropoff.row.token },
    ...(req.accessible ? { lowCompartment: low } : {}),
  };
}
