import { LockstepError } from '../errors.js';
import { createEnrolmentToken, hashToken } from './enrolment-tokens.js';
import { recordAudit } from '../audit/audit-log.js';
/**
 * A device enrols: its single-use token (unused, unexpired, for this locker) is spent and its public key becomes
 * the locker's identity. Every refusal looks the same to the caller (ENROLMENT_REFUSED) and changes nothing.
 * A broker with its own accounts (Mosquitto dynamic security) gets the locker's account before the commit, so a
 * failure there leaves the token unspent; its credentials are returned once, to the device, and never stored.
 */
export async function enrolDevice(ctx, lockerId, token, publicKey, access) {
    const now = ctx.clock.now();
    const broker = await ctx.db.transaction().execute(async (trx) => {
        const spent = await trx
            .updateTable('enrolment_tokens')
            .set({ used_at: now })
            .where('token_hash', '=', hashToken(token))
            .where('locker_id', '=', lockerId)
            .where('used_at', 'is', null)
            .where('expires_at', '>', now)
            .executeTakeFirst();
        if (spent.numUpdatedRows !== 1n)
            throw new LockstepError('ENROLMENT_REFUSED');
        await trx.updateTable('lockers').set({ public_key: JSON.stringify(publicKey), enrolled_at: now }).where('id', '=', lockerId).execute();
        return access?.provisionLocker(lockerId).catch((err) => {
            ctx.log.error({ err, lockerId }, 'broker account for the locker not made');
            throw new LockstepError('BROKER_UNAVAILABLE');
        });
    });
    ctx.log.info({ lockerId }, 'locker enrolled');
    return broker;
}
/**
 * Replacing a controller: the old key is revoked at once (its connection is closed) and a new enrolment token is
 * issued for the new device.
 */
export async function reEnrol(ctx, lockerId, by, access) {
    const now = ctx.clock.now();
    const issued = await ctx.db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('lockers').set({ public_key: null, enrolled_at: null }).where('id', '=', lockerId).executeTakeFirst();
        if (r.numUpdatedRows !== 1n)
            throw new LockstepError('LOCKER_NOT_FOUND', { lockerId });
        await recordAudit(trx, { at: now, actor: by, action: 'locker.re_enrol', result: 'done', lockerId });
        return createEnrolmentToken(trx, lockerId, by, now);
    });
    // The key is gone from the database already (no new sign-in passes); the broker account and connection follow.
    await access.revokeLocker(lockerId).catch((err) => ctx.log.error({ err, lockerId }, 'broker access of the old controller not revoked'));
    ctx.log.info({ lockerId, by }, 'locker key revoked; new enrolment token issued');
    return issued;
}
//# sourceMappingURL=enrol.js.map