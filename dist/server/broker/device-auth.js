import { verifyBrokerToken } from '../../shared/broker-credentials.js';
/**
 * How far a locker's clock may be off and still sign in: a controller whose clock is wrong must be able to
 * connect to learn the server's time. Replay is stopped by the single-use rule (broker_token_uses), not by a tight window.
 */
const BROKER_TOKEN_SKEW_SEC = 24 * 3600;
/**
 * Checks a locker's broker password: a token signed with the key it enrolled, used once. A locker that is not
 * enrolled (or whose key was revoked) has no way in.
 */
export async function checkBrokerPassword(db, lockerId, password, nowMs) {
    const row = await db.selectFrom('lockers').select('public_key').where('id', '=', lockerId).executeTakeFirst();
    if (!row?.public_key)
        return 'NOT_ENROLLED';
    const token = password.toString('utf8');
    const verdict = await verifyBrokerToken(token, JSON.parse(row.public_key), lockerId, nowMs, BROKER_TOKEN_SKEW_SEC);
    if (verdict !== 'OK')
        return verdict;
    const jti = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).jti;
    // Single use, across restarts: the id is kept as long as the token could still pass the time check.
    const first = await db
        .insertInto('broker_token_uses')
        .values({ locker_id: lockerId, jti, keep_until: nowMs + (2 * BROKER_TOKEN_SKEW_SEC + 600) * 1000 })
        .onConflict((oc) => oc.columns(['locker_id', 'jti']).doNothing())
        .executeTakeFirst();
    return first.numInsertedOrUpdatedRows === 1n ? 'OK' : 'REPLAYED';
}
/** Forgets token ids that could no longer pass the time check. */
export async function pruneBrokerTokenUses(db, nowMs) {
    await db.deleteFrom('broker_token_uses').where('keep_until', '<', nowMs).execute();
}
//# sourceMappingURL=device-auth.js.map