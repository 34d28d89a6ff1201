import { Secret, TOTP } from 'otpauth';

/**
 * The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, as every authenticator app reads them). A
 * code is accepted for the current step or one step either side (clock drift), and only for a step later than the
 * last one accepted for the account: the same code never signs in twice.
 */
const PERIOD_SEC = 30;
const DIGITS = 6;
const WINDOW = 1;
const ISSUER = 'Lockstep';

/** A new random 160-bit secret, base32 (what the authenticator app is given). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app reads (from a QR code or typed in). */
export function totpUri(secretBase32: string, accountName: string): string {
  return new TOTP({ issuer: ISSUER, label: accountName, secret: Secret.fromBase32(secretBase32), digits: DIGITS, period: PERIOD_SEC, algorithm: 'SHA1' }).toString();
}

/** The code for a time (tests and the simulator act as the authenticator app). */
export function totpCode(secretBase32: string, atMs: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), digits: DIGITS, period: PERIOD_SEC, algorithm: 'SHA1', timestamp: atMs });
}

/**
 * The time step a code belongs to when it is right at `nowMs` and later than `lastStep`; null otherwise (wrong,
 * too old, or already used).
 */
export function acceptTotp(secretBase32: string, code: string, nowMs: number, lastStep: number | null): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secretBase32), digits: DIGITS, period: PERIOD_SEC, algorithm: 'SHA1', timestamp: nowMs, window: WINDOW });
  if (delta === null) return null;
  const step = TOTP.counter({ period: PERIOD_SEC, timestamp: nowMs }) + delta;
  if (lastStep !== null && step <= lastStep) return null;
  return step;
}
