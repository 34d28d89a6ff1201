import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/database.js';

/** A new broker secret for a locker: shown once, stored only as its SHA-256. */
export function newDeviceSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

export function hashSecret(secret: string | Buffer): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** True when `password` is the broker secret of locker `lockerId`. Constant-time on the hash. */
export async function checkDeviceSecret(db: Db, lockerId: string, password: Buffer): Promise<boolean> {
  const row = await db.selectFrom('lockers').select('secret_hash').where('id', '=', lockerId).executeTakeFirst();
  if (!row) return false;
  const given = Buffer.from(hashSecret(password), 'hex');
  const stored = Buffer.from(row.secret_hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
