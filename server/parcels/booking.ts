import { randomUUID } from 'node:crypto';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import type { StateChange } from '../../shared/messages.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { issueGrant } from '../codes/grant-issuer.js';
import { appendDesiredChange, publishDelta } from '../sync/desired-state.js';
import { chooseCompartment } from './allocation.js';
import { nearestWithSpace } from './nearest-lockers.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import type { ParcelRow } from '../store/schema.js';

export interface Recipient {
  phone?: string;
  email?: string;
}

export interface BookingRequest {
  lockerId: string;
  size: CompartmentSize;
  recipient: Recipient;
  reference: string;
}

export interface Booking {
  parcel: ParcelRow;
  dropoff: { pin: string; qr: string };
}

/**
 * Books a parcel: reserves the smallest free compartment that fits, issues its drop-off and pickup grants,
 * and queues both for the locker in one new desired-state version. The drop-off PIN is returned once.
 */
export async function bookParcel(ctx: ServerContext, req: BookingRequest, principalId: string): Promise<Booking> {
  const now = ctx.clock.now();
  const parcelId = `p_${randomUUID().replaceAll('-', '')}`;
  const result = await ctx.db.transaction().execute(async (trx) => {
    const locker = await trx.selectFrom('lockers').select('id').where('id', '=', req.lockerId).executeTakeFirst();
    if (!locker) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
    const compartments = await trx
      .selectFrom('compartments')
      .select(['id', 'size', 'in_service', 'parcel_id'])
      .where('locker_id', '=', req.lockerId)
      .execute();
    const choice = chooseCompartment(
      compartments.map((c) => ({ id: c.id, size: c.size, inService: c.in_service === 1, parcelId: c.parcel_id })),
      req.size,
    );
    if (!choice.ok) {
      // A full locker answers with the nearest lockers that have a fitting compartment free.
      const alternatives = choice.code === 'NO_FREE_COMPARTMENT' ? await nearestWithSpace(trx, req.lockerId, req.size) : [];
      throw new LockstepError(choice.code, { lockerId: req.lockerId, size: req.size, ...(alternatives.length ? { alternatives } : {}) });
    }
    const compartmentId = choice.compartmentId;
    // Conditional update: the compartment row is the booking lock, so two bookings never share it.
    const reserved = await trx
      .updateTable('compartments')
      .set({ parcel_id: parcelId })
      .where('locker_id', '=', req.lockerId)
      .where('id', '=', compartmentId)
      .where('parcel_id', 'is', null)
      .executeTakeFirst();
    if (reserved.numUpdatedRows !== 1n) throw new LockstepError('NO_FREE_COMPARTMENT', { lockerId: req.lockerId });
    const size = compartments.find((c) => c.id === compartmentId)?.size ?? req.size;

    const parcel: ParcelRow = {
      id: parcelId,
      locker_id: req.lockerId,
      compartment_id: compartmentId,
      size,
      status: 'booked',
      reference: req.reference,
      recipient: JSON.stringify(req.recipient),
      created_by: principalId,
      created_at: now,
      updated_at: now,
      deposited_at: null,
      picked_up_at: null,
      release_version: null,
    };
    await trx.insertInto('parcels').values(parcel).execute();

    const depositUntil = now + ctx.config.depositWindowSec * 1000;
    const base = { lockerId: req.lockerId, parcelId, compartmentId, notBefore: now };
    const dropoff = await issueGrant(ctx, trx, { ...base, action: 'deposit', expiresAt: depositUntil });
    const pickup = await issueGrant(
      ctx,
      trx,
      { ...base, action: 'pickup', expiresAt: depositUntil + ctx.config.pickupWindowSec * 1000 },
      [dropoff.row.pin_hash],
    );
    await trx
      .insertInto('parcel_history')
      .values({
        parcel_id: parcelId,
        at: now,
        type: 'booked',
        status: 'booked',
        source: 'api',
        source_ref: principalId,
        detail: JSON.stringify({ compartmentId, size }),
      })
      .execute();
    await enqueueParcelEvent(trx, parcel, 'parcel.booked', now);
    const changes: StateChange[] = [
      { op: 'grant.add', token: dropoff.row.token },
      { op: 'grant.add', token: pickup.row.token },
    ];
    const version = await appendDesiredChange(trx, req.lockerId, changes, now);
    return { parcel, dropoff, version, changes };
  });

  await publishDelta(ctx, req.lockerId, result.version, result.changes).catch((err: unknown) => {
    // The locker still gets both grants with its next snapshot; the database is the truth.
    ctx.log.warn({ err, lockerId: req.lockerId }, 'desired-state delta not published');
  });
  return { parcel: result.parcel, dropoff: { pin: result.dropoff.pin, qr: result.dropoff.row.token } };
}
