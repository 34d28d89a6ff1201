import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { inUnitOfWork, type UnitOfWork } from '../desired-state/unit-of-work.js';
import { nextStatus } from './lifecycle.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import type { HistorySource, ParcelRow } from '../store/schema.js';

/**
 * Inside the caller's unit of work: marks the parcel cancelled, revokes its live grants in a new desired-state
 * version (published after the commit) and keeps the compartment until the locker confirms. Returns that version.
 */
export async function cancelInTransaction(
  uow: UnitOfWork,
  parcel: ParcelRow,
  now: number,
  why: { type: string; source: HistorySource; ref: string },
): Promise<number> {
  const { trx } = uow;
  const next = nextStatus(parcel.status, 'cancel');
  if (!next) throw new LockstepError('PARCEL_NOT_CANCELLABLE', { parcelId: parcel.id, status: parcel.status });
  // The locker's row first, as bookings and device events take it: on Postgres a cancellation that locked the
  // grants first deadlocked with the locker's events (which lock the row, then the grant a code used).
  const version = await uow.takeDesiredVersion(parcel.locker_id);
  if (version === undefined) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: parcel.locker_id });
  const grants = await trx.selectFrom('grants').select('jti').where('parcel_id', '=', parcel.id).where('status', '=', 'live').execute();
  await trx.updateTable('grants').set({ status: 'revoked' }).where('parcel_id', '=', parcel.id).where('status', '=', 'live').execute();
  await uow.recordDesiredChange(
    parcel.locker_id,
    version,
    grants.map((g) => ({ op: 'grant.revoke' as const, jti: g.jti })),
    now,
  );
  // Conditional: a deposit or pickup another server process committed since `parcel` was read wins (the whole
  // cancellation rolls back, its revocations with it).
  const cancelled = await trx.updateTable('parcels').set({ status: next, release_version: version, updated_at: now }).where('id', '=', parcel.id).where('status', '=', parcel.status).executeTakeFirst();
  if (cancelled.numUpdatedRows !== 1n) throw new LockstepError('PARCEL_NOT_CANCELLABLE', { parcelId: parcel.id, reason: 'changed_meanwhile' });
  await uow.addHistory({ parcelId: parcel.id, at: now, type: why.type, status: next, source: why.source, sourceRef: why.ref, detail: { revokedGrants: grants.length, version } });
  await enqueueParcelEvent(trx, parcel, 'parcel.cancelled', now, { cause: why.type });
  return version;
}

/**
 * Cancels a booked parcel: its grants are revoked (a new desired-state version for the locker), and its
 * compartment is kept until the locker confirms the revocation (see desired-state/release-compartments.ts),
 * because a locker that is offline may already have taken the parcel in.
 */
export async function cancelParcel(ctx: ServerContext, parcelId: string, principalRef: string, ownedBy?: string): Promise<ParcelRow> {
  const now = ctx.clock.now();
  return inUnitOfWork(ctx, async (uow) => {
    let q = uow.trx.selectFrom('parcels').selectAll().where('id', '=', parcelId);
    if (ownedBy !== undefined) q = q.where('created_by', '=', ownedBy);
    const parcel = await q.executeTakeFirst();
    if (!parcel) throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
    const version = await cancelInTransaction(uow, parcel, now, { type: 'cancelled', source: 'api', ref: principalRef });
    return { ...parcel, status: 'cancelled' as const, release_version: version, updated_at: now };
  });
}
