import { randomUUID } from 'node:crypto';
import type { StateChange } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import { issueGrant } from '../codes/grant-issuer.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { cancelInTransaction } from './cancel.js';
import { LockstepError } from '../errors.js';
import { nextStatus, windowEnded } from './lifecycle.js';
import { reconcileWindows, windowOf } from './pickup-window.js';
import { sendPickupReminders } from './reminders.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';

/**
 * Time-driven parcel rules, run by the scheduler on the injected clock:
 * - a reservation whose deposit window ended unused is released (the parcel is cancelled, its grants revoked);
 * - a parcel not picked up by the end of its pickup window (`pickup_deadline`: the deposit plus PICKUP_WINDOW_SEC,
 *   pushed by pauses and extensions, see pickup-window.ts) expires: the recipient's code is revoked
 *   and the carrier gets a collection code (notification `collection_code`) to take it back (→ `returned`).
 * Each parcel changes in its own transaction (a unit of work); what its locker must learn is published after its commit.
 */
async function runParcelExpiry(ctx: ServerContext): Promise<{ released: number; expired: number }> {
  const now = ctx.clock.now();

  const unused = await ctx.db
    .selectFrom('parcels')
    .innerJoin('grants', 'grants.parcel_id', 'parcels.id')
    .select('parcels.id')
    .where('parcels.status', '=', 'booked')
    .where('grants.action', '=', 'deposit')
    .where('grants.status', '=', 'live')
    .where('grants.exp', '<', Math.floor(now / 1000) - ctx.config.clockToleranceSec)
    .limit(500)
    .execute();
  // One parcel that fails is logged and skipped: it never stops the others.
  const each = async (id: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      ctx.log.error({ err, parcelId: id }, 'parcel window rule failed');
    }
  };
  for (const { id } of unused) {
    await each(id, () => inUnitOfWork(ctx, async (uow) => {
      const parcel = await uow.trx.selectFrom('parcels').selectAll().where('id', '=', id).where('status', '=', 'booked').executeTakeFirst();
      if (!parcel) return;
      await cancelInTransaction(uow, parcel, now, { type: 'reservation_expired', source: 'scheduler', ref: 'deposit-window' });
    }).catch((err: unknown) => {
      // A deposit committed meanwhile (another server process) wins: rolled back, nothing to expire.
      if (err instanceof LockstepError && err.code === 'PARCEL_NOT_CANCELLABLE') return;
      throw err;
    }));
  }

  // The window's end is stored on the parcel (pickup-window.ts); a paused window never ends.
  const due = await ctx.db
    .selectFrom('parcels')
    .select('id')
    .where('status', '=', 'in_locker')
    .where('paused_since', 'is', null)
    .where('pickup_deadline', '<=', now)
    .limit(500)
    .execute();
  for (const { id } of due) {
    await each(id, () => inUnitOfWork(ctx, async (uow) => {
      const { trx } = uow;
      const parcel = await trx.selectFrom('parcels').selectAll().where('id', '=', id).where('status', '=', 'in_locker').executeTakeFirst();
      const next = parcel && nextStatus(parcel.status, 'expire');
      const w = parcel && windowOf(parcel);
      if (!parcel || !next || !w || !windowEnded(w, now)) return;
      // Conditional: a pickup, pause or extension committed meanwhile wins.
      const moved = await trx
        .updateTable('parcels')
        .set({ status: next, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'in_locker')
        .where('paused_since', 'is', null)
        .where('pickup_deadline', '=', w.deadline)
        .executeTakeFirst();
      if (moved.numUpdatedRows !== 1n) return;
      const pickups = await trx.selectFrom('grants').select('jti').where('parcel_id', '=', id).where('action', '=', 'pickup').where('status', '=', 'live').execute();
      await trx.updateTable('grants').set({ status: 'revoked' }).where('parcel_id', '=', id).where('action', '=', 'pickup').where('status', '=', 'live').execute();
      const collect = await issueGrant(ctx, trx, {
        lockerId: parcel.locker_id,
        parcelId: id,
        compartmentId: parcel.compartment_id,
        action: 'collect',
        notBefore: now,
        expiresAt: now + ctx.config.collectWindowSec * 1000,
      });
      const changes: StateChange[] = [...pickups.map((g) => ({ op: 'grant.revoke' as const, jti: g.jti })), { op: 'grant.add', token: collect.row.token }];
      await uow.changeDesiredState(parcel.locker_id, changes, now);
      await uow.addHistory({ parcelId: id, at: now, type: 'expired', status: next, source: 'scheduler', sourceRef: 'pickup-window', detail: { collectionGrant: collect.row.jti, pickupDeadline: w.deadline } });
      await trx
        .insertInto('notifications')
        .values({ id: `n_${randomUUID().replaceAll('-', '')}`, parcel_id: id, kind: 'collection_code', recipient: JSON.stringify({ carrier: parcel.created_by }), grant_jti: collect.row.jti, created_at: now })
        .execute();
      await enqueueParcelEvent(trx, parcel, 'parcel.expired', now);
    }));
  }
  return { released: unused.length, expired: due.length };
}

/**
 * Every pickup-window rule in the order that makes sense within one tick: windows opened and pauses put in step
 * with the facts first, then windows that ended expire, then reminders for those still running.
 */
export async function runPickupWindows(ctx: ServerContext): Promise<void> {
  await reconcileWindows(ctx);
  await runParcelExpiry(ctx);
  await sendPickupReminders(ctx);
}
