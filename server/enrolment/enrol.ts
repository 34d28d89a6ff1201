import type { DevicePublicKey } from '../../shared/broker-credentials.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { createEnrolmentToken, hashToken } from './enrolment-tokens.js';
import { recordAudit } from '../audit/audit-log.js';

/**
 * A device enrols: its single-use token (unused, unexpired, for this locker) is spent and its public key becomes
 * the locker's identity. Every refusal looks the same to the caller (ENROLMENT_REFUSED) and changes nothing.
 */
export async function enrolDevice(ctx: ServerContext, lockerId: string, token: string, publicKey: DevicePublicKey): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const spent = await trx
      .updateTable('enrolment_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', hashToken(token))
      .where('locker_id', '=', lockerId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (spent.numUpdatedRows !== 1n) throw new LockstepError('ENROLMENT_REFUSED');
    await trx.updateTable('lockers').set({ public_key: JSON.stringify(publicKey), enrolled_at: now }).where('id', '=', lockerId).execute();
  });
  ctx.log.info({ lockerId }, 'locker enrolled');
}

/**
 * Replacing a controller: the old key is revoked at once (its connection is closed) and a new enrolment token is
 * issued for the new device.
 */
export async function reEnrol(ctx: ServerContext, lockerId: string, by: string, disconnect: (lockerId: string) => void) {
  const now = ctx.clock.now();
  const issued = await ctx.db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('lockers').set({ public_key: null, enrolled_at: null }).where('id', '=', lockerId).executeTakeFirst();
    if (r.numUpdatedRows !== 1n) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId });
    await recordAudit(trx, { at: now, actor: by, action: 'locker.re_enrol', result: 'done', lockerId });
    return createEnrolmentToken(trx, lockerId, by, now);
  });
  disconnect(lockerId);
  ctx.log.info({ lockerId, by }, 'locker key revoked; new enrolment token issued');
  return issued;
}
