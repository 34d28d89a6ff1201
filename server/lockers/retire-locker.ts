import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import { recordAudit, SYSTEM_ACTOR } from '../audit/audit-log.js';
import type { LockerAccess } from '../enrolment/enrol.js';
import { actOnAlarm } from '../alarms/alarm-actions.js';

/** Parcel states that hold a compartment (booked into it, in it, or waiting in it for the carrier). */
const HOLDING = ['booked', 'in_locker', 'expired'] as const;

export interface RetiredLocker {
  lockerId: string;
  retiredAt: number;
  /** Grants of the locker's past parcels that were still live and are now revoked. */
  grantsRevoked: number;
}

/**
 * Takes a locker out of the fleet for good. Refused with LOCKER_NOT_EMPTY while a parcel holds one of its
 * compartments. Otherwise, in one transaction: the locker is stamped retired (its row stays, with its parcels,
 * events and history), its key is dropped (no broker sign-in or publish passes any more), its compartments are
 * taken out of service (no booking lands there), unspent enrolment tokens expire and live grants are revoked.
 * After the commit its broker account is removed and its connection closed, and its open alarms are resolved.
 *
 * The locker row is updated first: booking groups lock that row too before they read its compartments
 * (server/parcels/booking-group.ts), so on Postgres a booking and a retirement of one locker run one after the other
 * and the retirement sees the booking.
 */
export async function retireLocker(ctx: ServerContext, lockerId: string, by: string, reason: string | undefined, access: LockerAccess): Promise<RetiredLocker> {
  const now = ctx.clock.now();
  const result = await ctx.db.transaction().execute(async (trx) => {
    const stamped = await trx.updateTable('lockers').set({ retired_at: now, public_key: null, online: 0 }).where('id', '=', lockerId).where('retired_at', 'is', null).executeTakeFirst();
    if (stamped.numUpdatedRows !== 1n) {
      const exists = await trx.selectFrom('lockers').select('retired_at').where('id', '=', lockerId).executeTakeFirst();
      throw exists ? new LockstepError('LOCKER_RETIRED', { lockerId, retiredAt: Number(exists.retired_at) }) : new LockstepError('LOCKER_NOT_FOUND', { lockerId });
    }
    const held = await trx.selectFrom('parcels').select(['id', 'status']).where('locker_id', '=', lockerId).where('status', 'in', HOLDING).limit(5).execute();
    if (held.length > 0) throw new LockstepError('LOCKER_NOT_EMPTY', { lockerId, parcels: held.map((p) => ({ parcelId: p.id, status: p.status })) });
    await trx.updateTable('compartments').set({ in_service: 0 }).where('locker_id', '=', lockerId).execute();
    await trx.updateTable('enrolment_tokens').set({ expires_at: now }).where('locker_id', '=', lockerId).where('used_at', 'is', null).where('expires_at', '>', now).execute();
    const revoked = await trx.updateTable('grants').set({ status: 'revoked' }).where('locker_id', '=', lockerId).where('status', '=', 'live').executeTakeFirst();
    const grantsRevoked = Number(revoked.numUpdatedRows);
    await recordAudit(trx, { at: now, actor: by, action: 'locker.retire', result: 'done', lockerId, reason: reason ?? null, detail: { grantsRevoked } });
    return { lockerId, retiredAt: now, grantsRevoked };
  });
  // The key is gone from the database already (no sign-in or publish passes); the broker account and connection follow.
  await access.revokeLocker(lockerId).catch((err: unknown) => ctx.log.error({ err, lockerId }, 'broker access of the retired locker not removed'));
  const open = await ctx.db.selectFrom('alarms').select('id').where('locker_id', '=', lockerId).where('state', '!=', 'resolved').execute();
  for (const a of open) await actOnAlarm(ctx.db, a.id, 'resolve', SYSTEM_ACTOR, now, 'locker retired').catch(() => undefined);
  ctx.bus.lockerChanged(lockerId);
  ctx.log.info({ lockerId, by, grantsRevoked: result.grantsRevoked }, 'locker retired');
  return result;
}
