import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DeviceEvent } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import type { Database, ParcelRow, ParcelStatus } from '../store/schema.js';
import { nextStatus, type ParcelTrigger } from './lifecycle.js';

/**
 * What a device event changes in the domain, inside the transaction that records the event. Called once per
 * `(lockerId, seq)`. Events may arrive in any order; each effect checks the state it finds.
 */
export async function applyDeviceEvent(
  ctx: ServerContext,
  trx: Transaction<Database>,
  lockerId: string,
  event: DeviceEvent,
): Promise<void> {
  const ref = `${lockerId}#${event.seq}`;
  switch (event.type) {
    case 'code.accepted':
      return recordGrantUse(ctx, trx, lockerId, event, ref);
    case 'parcel.deposited':
      return moveParcel(ctx, trx, lockerId, event, ref, 'deposit');
    case 'parcel.picked_up':
      return moveParcel(ctx, trx, lockerId, event, ref, 'pickup');
    default:
      // Door, rejection and fault events are recorded as they are; alarms build on them later.
      return;
  }
}

async function recordGrantUse(
  ctx: ServerContext,
  trx: Transaction<Database>,
  lockerId: string,
  event: DeviceEvent,
  ref: string,
): Promise<void> {
  if (!event.jti) return;
  const grant = await trx
    .updateTable('grants')
    .set((eb) => ({ status: 'used', used_at: event.at, uses: eb('uses', '+', 1) }))
    .where('jti', '=', event.jti)
    .where('locker_id', '=', lockerId)
    .returning(['uses', 'parcel_id', 'action'])
    .executeTakeFirst();
  if (!grant) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq }, 'device accepted a grant the server does not know');
    return;
  }
  if (grant.uses > 1) {
    ctx.stats.grantReuse++;
    ctx.log.warn({ lockerId, seq: event.seq, jti: event.jti }, 'grant reported used more than once');
    const parcel = await trx.selectFrom('parcels').select('status').where('id', '=', grant.parcel_id).executeTakeFirst();
    if (parcel) await addHistory(trx, grant.parcel_id, event.at, 'grant.reused', parcel.status, ref, { jti: event.jti });
  }
}

async function moveParcel(
  ctx: ServerContext,
  trx: Transaction<Database>,
  lockerId: string,
  event: DeviceEvent,
  ref: string,
  trigger: ParcelTrigger,
): Promise<void> {
  const parcel = event.parcelId
    ? await trx
        .selectFrom('parcels')
        .selectAll()
        .where('id', '=', event.parcelId)
        .where('locker_id', '=', lockerId)
        .executeTakeFirst()
    : undefined;
  if (!parcel) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq, type: event.type }, 'event for a parcel this locker does not hold');
    return;
  }
  const now = ctx.clock.now();
  let status: ParcelStatus = parcel.status;
  if (trigger === 'pickup' && status === 'booked') {
    // The deposit event has not arrived yet (or was reordered): the pickup proves it happened.
    status = 'in_locker';
    await trx.updateTable('parcels').set({ deposited_at: event.at }).where('id', '=', parcel.id).execute();
    await addHistory(trx, parcel.id, event.at, 'deposited', status, ref, { inferred: true });
  }
  const next = nextStatus(status, trigger);
  if (!next) {
    await addHistory(trx, parcel.id, event.at, `${event.type}.ignored`, status, ref, { from: parcel.status });
    return;
  }
  if (trigger === 'deposit') {
    await trx.updateTable('parcels').set({ status: next, deposited_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await addHistory(trx, parcel.id, event.at, 'deposited', next, ref, { compartmentId: event.compartmentId });
    await issuePickupNotification(trx, parcel, now);
  } else {
    await trx.updateTable('parcels').set({ status: next, picked_up_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('parcel_id', '=', parcel.id).execute();
    await addHistory(trx, parcel.id, event.at, 'picked_up', next, ref, { compartmentId: event.compartmentId });
  }
}

/** The recipient's pickup code, released now that the server knows the parcel is in. */
async function issuePickupNotification(trx: Transaction<Database>, parcel: ParcelRow, now: number): Promise<void> {
  const grant = await trx
    .selectFrom('grants')
    .select('jti')
    .where('parcel_id', '=', parcel.id)
    .where('action', '=', 'pickup')
    .executeTakeFirst();
  if (!grant) return;
  await trx
    .insertInto('notifications')
    .values({
      id: `n_${randomUUID().replaceAll('-', '')}`,
      parcel_id: parcel.id,
      kind: 'pickup_code',
      recipient: parcel.recipient,
      grant_jti: grant.jti,
      created_at: now,
    })
    .execute();
}

async function addHistory(
  trx: Transaction<Database>,
  parcelId: string,
  at: number,
  type: string,
  status: ParcelStatus,
  sourceRef: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await trx
    .insertInto('parcel_history')
    .values({ parcel_id: parcelId, at, type, status, source: 'device', source_ref: sourceRef, detail: JSON.stringify(detail) })
    .execute();
}
