import type { StateChange } from '../../shared/messages.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { appendDesiredChange, publishDelta } from '../desired-state/desired-state.js';
import { nextStatus } from './lifecycle.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import type { Transaction } from 'kysely';
import type { Database, HistorySource, ParcelRow } from '../store/schema.js';

/**
 * Inside the caller's transaction: marks the parcel cancelled, revokes its live grants in a new desired-state
 * version and keeps the compartment until the locker confirms. Returns what to publish after the commit.
 */
export async function cancelInTransaction(
  trx: Transaction<Database>,
  parcel: ParcelRow,
  now: number,
  why: { type: string; source: HistorySource; ref: string },
): Promise<{ version: number; changes: StateChange[] }> {
  const next = nextStatus(parcel.status, 'cancel');
  if (!next) throw new LockstepError('PARCEL_NOT_CANCELLABLE', { parcelId: parcel.id, status: parcel.status });
  const grants = await trx.selectFrom('grants').select('jti').where('parcel_id', '=', parcel.id).where('status', '=', 'live').execute();
  await trx.updateTable('grants').set({ status: 'revoked' }).where('parcel_id', '=', parcel.id).where('status', '=', 'live').execute();
  const changes: StateChange[] = grants.map((g) => ({ op: 'grant.revoke', jti: g.jti }));
  const version = await appendDesiredChange(trx, parcel.locker_id, changes, now);
  await trx.updateTable('parcels').set({ status: next, release_version: version, updated_at: now }).where('id', '=', parcel.id).execute();
  await trx
    .insertInto('parcel_history')
    .values({ parcel_id: parcel.id, at: now, type: why.type, status: next, source: why.source, source_ref: why.ref, detail: JSON.stringify({ revokedGrants: grants.length, version }) })
    .execute();
  await enqueueParcelEvent(trx, parcel, 'parcel.cancelled', now, { cause: why.type });
  return { version, changes };
}

/**
 * Cancels a booked parcel: its grants are revoked (a new desired-state version for the locker), and its
 * compartment is kept until the locker confirms the revocation (see release-compartments.ts), because a locker
 * that is offline may already have taken the parcel in.
 */
export async function cancelParcel(ctx: ServerContext, parcelId: string, principalRef: string, ownedBy?: string): Promise<ParcelRow> {
  const now = ctx.clock.now();
  const result = await ctx.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('parcels').selectAll().where('id', '=', parcelId);
    if (ownedBy !== undefined) q = q.where('created_by', '=', ownedBy);
    const parcel = await q.executeTakeFirst();
    if (!parcel) throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
    const { version, changes } = await cancelInTransaction(trx, parcel, now, { type: 'cancelled', source: 'api', ref: principalRef });
    return { parcel: { ...parcel, status: 'cancelled' as const, release_version: version, updated_at: now }, version, changes };
  });
  await publishDelta(ctx, result.parcel.locker_id, result.version, result.changes).catch((err: unknown) =>
    ctx.log.warn({ err, lockerId: result.parcel.locker_id }, 'desired-state delta not published'),
  );
  return result.parcel;
}
