import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt from node:crypto with a random 16-byte salt, stored as
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64url>$<hash base64url>` so the cost can be raised later and old hashes
 * still verify. Compared in constant time. The password itself is never stored or logged.
 */

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const BLOCK_SIZE = 8;
const PARALLELISM = 3;
/** Bounds a stored hash's parameters must stay within (a tampered row cannot make a sign-in cost gigabytes). */
const MAX_LOG_N = 20;
const MAX_P = 16;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

function scrypt(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * p + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new hash of the password with a fresh salt, at cost 2^logN. */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, logN, BLOCK_SIZE, PARALLELISM);
  return `$scrypt$ln=${logN},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

export function parseHash(stored: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/.exec(stored);
  if (!m) return null;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > MAX_P) return null;
  return { logN, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** Whether the password matches the stored hash (false for a malformed hash). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await scrypt(password, parsed.salt, parsed.logN, parsed.r, parsed.p);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/**
 * A hash no password matches, of the given cost: verified against when the name is unknown or has no password, so
 * that a sign-in takes as long whether the account exists or not.
 */
export async function decoyHash(logN: number): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64url'), logN);
}

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_name';

/** Why a new password is refused, or null when it meets the policy: 12 to 256 characters, not containing the account name. */
export function passwordProblem(password: string, accountName: string): PasswordProblem | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const name = accountName.trim().toLowerCase();
  if (name.length >= 3 && password.toLowerCase().includes(name)) return 'contains_name';
  if (name.length > 0 && password.toLowerCase() === name) return 'contains_name';
  return null;
}
