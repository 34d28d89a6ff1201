import { verifyBrokerToken, type BrokerTokenVerdict, type DevicePublicKey } from '../../shared/broker-credentials.js';
import type { Db } from '../store/database.js';

/**
 * Checks a locker's broker password: a short-lived token signed with the key it enrolled. A locker that is not
 * enrolled (or whose key was revoked) has no way in.
 */
export async function checkBrokerPassword(db: Db, lockerId: string, password: Buffer, nowMs: number, toleranceSec: number): Promise<BrokerTokenVerdict | 'NOT_ENROLLED'> {
  const row = await db.selectFrom('lockers').select('public_key').where('id', '=', lockerId).executeTakeFirst();
  if (!row?.public_key) return 'NOT_ENROLLED';
  return verifyBrokerToken(password.toString('utf8'), JSON.parse(row.public_key) as DevicePublicKey, lockerId, nowMs, toleranceSec);
}
