import { PostgresAdapter, sql } from 'kysely';
import { verifyBrokerToken, type BrokerTokenVerdict, type DevicePublicKey } from '../../shared/broker-credentials.js';
import type { Db } from '../store/database.js';
import { BROKER_TOKEN_SKEW_SEC, jtiOf, type KnownKeys } from './known-keys.js';

/**
 * Checks a locker's broker password: a token signed with the key it enrolled, used once. A locker that is not
 * enrolled (or whose key was revoked) has no way in. The key read is remembered in `known` (known-keys.ts), and
 * the id of the token accepted; a token already verified against `verifiedWith` (a moment before, with the same
 * `nowMs`) is not verified again while the database holds that same key.
 * A locker's clock may be off by BROKER_TOKEN_SKEW_SEC and still sign in: a controller whose clock is wrong must
 * be able to connect to learn the server's time. Replay is stopped by the single-use rule (broker_token_uses),
 * not by a tight window.
 * On Postgres, a token already verified against the key this process remembers costs one round trip, not two: the
 * key read and the use recorded in one statement, the use only while the key is still that one (`readKeyAndUse`).
 */
export async function checkBrokerPassword(
  db: Db,
  lockerId: string,
  password: Buffer,
  nowMs: number,
  known?: KnownKeys,
  verifiedWith?: string,
): Promise<BrokerTokenVerdict | 'NOT_ENROLLED' | 'REPLAYED'> {
  const keepUntil = nowMs + (2 * BROKER_TOKEN_SKEW_SEC + 600) * 1000;
  const token = password.toString('utf8');
  let publicKey: string | null | undefined;
  if (verifiedWith !== undefined && db.getExecutor().adapter instanceof PostgresAdapter) {
    const jti = jtiOf(token);
    if (jti !== undefined) {
      const { key, used } = await readKeyAndUse(db, lockerId, jti, keepUntil, verifiedWith);
      if (key === verifiedWith) {
        if (!used) return 'REPLAYED';
        known?.accepted(lockerId, jti);
        return 'OK';
      }
      // The key changed since this process read it (re-enrolled, or revoked): the token is checked against the key
      // just read, below, without reading it again.
      publicKey = key;
    }
  }
  if (publicKey === undefined) publicKey = (await db.selectFrom('lockers').select('public_key').where('id', '=', lockerId).executeTakeFirst())?.public_key ?? null;
  known?.remember(lockerId, publicKey);
  if (!publicKey) return 'NOT_ENROLLED';
  const verdict =
    publicKey === verifiedWith ? 'OK' : await verifyBrokerToken(token, JSON.parse(publicKey) as DevicePublicKey, lockerId, nowMs, BROKER_TOKEN_SKEW_SEC);
  if (verdict !== 'OK') return verdict;
  // Verified: the claims were checked, jti among them.
  const jti = jtiOf(token) as string;
  // Single use, across restarts: the id is kept as long as the token could still pass the time check.
  const first = await db
    .insertInto('broker_token_uses')
    .values({ locker_id: lockerId, jti, keep_until: keepUntil })
    .onConflict((oc) => oc.columns(['locker_id', 'jti']).doNothing())
    .executeTakeFirst();
  if (first.numInsertedOrUpdatedRows !== 1n) return 'REPLAYED';
  known?.accepted(lockerId, jti);
  return 'OK';
}

/** Forgets token ids that could no longer pass the time check. */
export async function pruneBrokerTokenUses(db: Db, nowMs: number): Promise<void> {
  await db.deleteFrom('broker_token_uses').where('keep_until', '<', nowMs).execute();
}

/**
 * Postgres: the locker's key, and the token's use recorded if (only if) that key is `expected`, in one statement.
 * `used`: the use was recorded now (false: the key differs, or the token was used before).
 */
async function readKeyAndUse(db: Db, lockerId: string, jti: string, keepUntil: number, expected: string): Promise<{ key: string | null; used: boolean }> {
  const { rows } = await sql<{ public_key: string | null; used: boolean }>`
    with k as (select public_key from lockers where id = ${lockerId}),
    ins as (
      insert into broker_token_uses (locker_id, jti, keep_until)
      select ${lockerId}, ${jti}, cast(${keepUntil} as bigint) from k where k.public_key = ${expected}
      on conflict (locker_id, jti) do nothing
      returning 1
    )
    select (select public_key from k) as public_key, exists (select 1 from ins) as used`.execute(db);
  const row = rows[0];
  return { key: row?.public_key ?? null, used: row?.used === true };
}
