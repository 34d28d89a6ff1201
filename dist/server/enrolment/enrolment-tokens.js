import { createHash, randomBytes } from 'node:crypto';
/** How long an operator's enrolment token stays usable. */
const ENROLMENT_TOKEN_TTL_MS = 7 * 24 * 3600_000;
export function hashToken(token) {
    return createHash('sha256').update(token).digest('hex');
}
/** A new single-use enrolment token for a locker (shown once; only its hash is kept). Older unused ones die. */
export async function createEnrolmentToken(trx, lockerId, createdBy, now) {
    await trx.updateTable('enrolment_tokens').set({ used_at: now }).where('locker_id', '=', lockerId).where('used_at', 'is', null).execute();
    const token = `lse_${randomBytes(24).toString('base64url')}`;
    const expiresAt = now + ENROLMENT_TOKEN_TTL_MS;
    await trx
        .insertInto('enrolment_tokens')
        .values({ token_hash: hashToken(token), locker_id: lockerId, created_by: createdBy, created_at: now, expires_at: expiresAt, used_at: null })
        .execute();
    return { token, expiresAt };
}
//# sourceMappingURL=enrolment-tokens.js.map