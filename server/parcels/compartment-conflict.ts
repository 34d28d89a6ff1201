import type { StateChange } from '../../shared/messages.js';
import { raiseAlarmInUnit } from '../alarms/raise-alarm.js';
import { issueGrants } from '../codes/grant-issuer.js';
import { pinSourceOf } from '../codes/pins.js';
import type { ParcelRow } from '../store/schema.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { compartmentCandidates, rankFree, reserveFirstFree } from './allocation.js';
import type { EffectScope } from './device-effects.js';

/** Why a booked parcel was given another compartment (its history's `rebooked` detail, its webhook's `cause`). */
export const REBOOKED_CAUSE = 'compartment_taken';

/**
 * The door sensor says `parcel` is in `compartmentId` (the locker moved it there, or took a cancelled parcel back
 * in): afterwards that compartment, and only it, holds the parcel. When the server had promised the compartment to
 * another parcel that is still only booked (its courier has not been), that parcel is re-booked into another free
 * compartment that fits (`rebookHolder`). When it cannot be (the other parcel is in the locker already, a batch
 * code is valid at this locker, its drop-off code was used already, or nothing fitting is free), the alarm
 * `compartment_conflict` tells the operator and the compartment keeps its holder. Returns whether the compartment
 * holds the parcel now.
 */
export async function takeCompartment(s: EffectScope, parcel: ParcelRow, compartmentId: string, at: number, ref: string, detail: Record<string, unknown>): Promise<boolean> {
  const { trx } = s.uow;
  // A parcel is in one compartment: any other that still names it lets go (whatever order the events came in).
  await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', s.lockerId).where('parcel_id', '=', parcel.id).where('id', '!=', compartmentId).execute();
  const taken = await takeIfFree(s, parcel.id, compartmentId);
  if (taken) return true;
  const holder = await trx
    .selectFrom('parcels')
    .selectAll()
    .where('id', '=', (eb) => eb.selectFrom('compartments').select('parcel_id').where('locker_id', '=', s.lockerId).where('id', '=', compartmentId))
    .executeTakeFirst();
  const rebooked = holder ? await rebookHolder(s, holder, compartmentId, parcel.id, at, ref) : undefined;
  if (!rebooked || !(await takeIfFree(s, parcel.id, compartmentId))) {
    await raiseAlarmInUnit(s.uow, { lockerId: s.lockerId, compartmentId, parcelId: parcel.id, kind: 'compartment_conflict', at, detail: { ...detail, ...(holder ? { heldBy: holder.id } : {}) } });
    return false;
  }
  return true;
}

async function takeIfFree(s: EffectScope, parcelId: string, compartmentId: string): Promise<boolean> {
  const r = await s.uow.trx
    .updateTable('compartments')
    .set({ parcel_id: parcelId })
    .where('locker_id', '=', s.lockerId)
    .where('id', '=', compartmentId)
    .where((eb) => eb.or([eb('parcel_id', 'is', null), eb('parcel_id', '=', parcelId)]))
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

/**
 * A parcel that is only booked gives its compartment up to a parcel the locker has put there: it is reserved into
 * the best other free compartment that fits, and its live drop-off and pickup grants are revoked and issued again
 * for the new compartment, with the same PINs and validity (the courier's and the recipient's codes keep working;
 * the QR codes change). One desired-state version carries both. The carrier learns the new drop-off QR from a
 * `parcel.dropoff_code` webhook with cause `compartment_taken`. Returns the new compartment, or undefined (nothing
 * changed) when the holder cannot move.
 */
async function rebookHolder(s: EffectScope, holder: ParcelRow, from: string, takenBy: string, at: number, ref: string): Promise<string | undefined> {
  const { trx } = s.uow;
  if (holder.status !== 'booked' || holder.compartment_id !== from) return undefined;
  // A batch code lists each parcel's compartment inside its signed token: while one is valid at this locker, its
  // parcels stay where they are.
  const nowSec = Math.floor(s.ctx.clock.now() / 1000);
  const batch = await trx.selectFrom('grants').select('jti').where('locker_id', '=', s.lockerId).where('action', '=', 'deposit_batch').where('status', '=', 'live').where('exp', '>', nowSec - s.ctx.config.clockToleranceSec).executeTakeFirst();
  if (batch) return undefined;
  // A drop-off code already accepted (the courier is at the door, or the locker may free the code again): it names
  // the old compartment and is not re-issued, so the parcel stays.
  const used = await trx.selectFrom('grants').select('jti').where('parcel_id', '=', holder.id).where('action', '=', 'deposit').where((eb) => eb.or([eb('status', '=', 'used'), eb('uses', '>', 0)])).executeTakeFirst();
  if (used) return undefined;
  const compartments = (await compartmentCandidates(trx, s.lockerId)) ?? [];
  // An accessible booking (it got a low compartment) is offered the low ones first again.
  const ranked = rankFree(compartments, holder.size, compartments.some((c) => c.id === from && c.low));
  // A parcel is in at most one compartment (a unique index): `from` lets go before another is reserved.
  await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', s.lockerId).where('id', '=', from).where('parcel_id', '=', holder.id).execute();
  const to = await reserveFirstFree(trx, s.lockerId, holder.id, ranked);
  if (!to) {
    await trx.updateTable('compartments').set({ parcel_id: holder.id }).where('locker_id', '=', s.lockerId).where('id', '=', from).where('parcel_id', 'is', null).execute();
    return undefined;
  }
  const now = s.ctx.clock.now();
  await trx.updateTable('parcels').set({ compartment_id: to, updated_at: now }).where('id', '=', holder.id).execute();
  const grants = await trx
    .selectFrom('grants')
    .select(['jti', 'pin_jti', 'pin_hash', 'action', 'nbf', 'exp'])
    .where('parcel_id', '=', holder.id)
    .where('status', '=', 'live')
    .where('action', 'in', ['deposit', 'pickup'])
    .execute();
  const changes: StateChange[] = [];
  let dropoffJti: string | undefined;
  if (grants.length) {
    await trx.updateTable('grants').set({ status: 'revoked' }).where('jti', 'in', grants.map((g) => g.jti)).execute();
    const reissued = await issueGrants(
      s.ctx,
      trx,
      grants.map((g) => ({
        lockerId: s.lockerId,
        parcelId: holder.id,
        compartmentId: to,
        action: g.action,
        notBefore: g.nbf * 1000,
        expiresAt: g.exp * 1000,
        keepPinOf: { pinJti: pinSourceOf(g), pinHash: g.pin_hash },
      })),
    );
    reissued.forEach((next, i) => changes.push({ op: 'grant.revoke', jti: grants[i]!.jti }, { op: 'grant.add', token: next.row.token }));
    dropoffJti = reissued.find((g) => g.row.action === 'deposit')?.row.jti;
  }
  if (changes.length) await s.uow.changeDesiredState(s.lockerId, changes, now);
  const moved = { ...holder, compartment_id: to };
  await s.uow.addHistory({ parcelId: holder.id, at, type: 'rebooked', status: 'booked', source: 'device', sourceRef: ref, detail: { from, to, cause: REBOOKED_CAUSE, takenBy } });
  if (dropoffJti) await enqueueParcelEvent(trx, moved, 'parcel.dropoff_code', at, { cause: REBOOKED_CAUSE, grantJti: dropoffJti });
  s.uow.afterCommit('rebooking not counted', async () => void s.ctx.stats.rebooked++);
  return to;
}
