import { verifyBrokerToken, type BrokerTokenVerdict, type DevicePublicKey } from '../../shared/broker-credentials.js';
import type { Db } from '../store/database.js';

/**
 * How far a locker's clock may be off and still sign in: a controller whose clock is wrong must be able to
 * connect to learn the server's time. Replay is stopped by the single-use rule below, not by a tight window.
 */
export const BROKER_TOKEN_SKEW_SEC = 24 * 3600;

/**
 * Each broker token works once: a token seen before (from this or any connection) is refused. Entries are kept
 * as long as a token could still pass the time check.
 */
export class BrokerTokenReplay {
  readonly #seen = new Map<string, number>();

  /** True the first time this (locker, jti) is seen. */
  firstUse(lockerId: string, jti: string, nowMs: number): boolean {
    const key = `${lockerId} ${jti}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, nowMs + (2 * BROKER_TOKEN_SKEW_SEC + 600) * 1000);
    if (this.#seen.size % 1024 === 0) this.#prune(nowMs);
    return true;
  }

  #prune(nowMs: number): void {
    for (const [k, until] of this.#seen) if (until < nowMs) this.#seen.delete(k);
  }
}

/**
 * Checks a locker's broker password: a token signed with the key it enrolled, used once. A locker that is not
 * enrolled (or whose key was revoked) has no way in.
 */
export async function checkBrokerPassword(
  db: Db,
  replay: BrokerTokenReplay,
  lockerId: string,
  password: Buffer,
  nowMs: number,
): Promise<BrokerTokenVerdict | 'NOT_ENROLLED' | 'REPLAYED'> {
  const row = await db.selectFrom('lockers').select('public_key').where('id', '=', lockerId).executeTakeFirst();
  if (!row?.public_key) return 'NOT_ENROLLED';
  const token = password.toString('utf8');
  const verdict = await verifyBrokerToken(token, JSON.parse(row.public_key) as DevicePublicKey, lockerId, nowMs, BROKER_TOKEN_SKEW_SEC);
  if (verdict !== 'OK') return verdict;
  const jti = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti: string }).jti;
  return replay.firstUse(lockerId, jti, nowMs) ? 'OK' : 'REPLAYED';
}
