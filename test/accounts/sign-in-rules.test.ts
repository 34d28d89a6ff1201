import { describe, expect, it } from 'vitest';
import { hashPassword, parseHash, passwordProblem, verifyPassword } from '../../server/accounts/passwords.js';
import { afterFailure, lockedFor } from '../../server/accounts/sign-in-lockout.js';
import { acceptTotp, newTotpSecret, totpCode, totpUri } from '../../server/accounts/totp.js';
import { SecretBox } from '../../server/accounts/secret-box.js';

describe('password hashes', () => {
  it('are salted scrypt with their parameters stored, verify only the right password, and refuse tampered hashes', async () => {
    const a = await hashPassword('correct horse battery', 11);
    const b = await hashPassword('correct horse battery', 11);
    expect(a).toMatch(/^\$scrypt\$ln=11,r=8,p=3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
    // The cost read from the hash: a hash made at another cost still verifies.
    expect(await verifyPassword('another password here', await hashPassword('another password here', 12))).toBe(true);
    // A tampered cost (a row edited to make sign-ins cost gigabytes) or a broken hash matches nothing.
    expect(parseHash(a.replace('ln=11', 'ln=30'))).toBeNull();
    expect(await verifyPassword('correct horse battery', a.replace('ln=11', 'ln=12'))).toBe(false);
    expect(await verifyPassword('correct horse battery', 'plain')).toBe(false);
  });

  it('policy: at least 12 characters, at most 256, not containing the account name', () => {
    expect(passwordProblem('short', 'Ala')).toBe('too_short');
    expect(passwordProblem('x'.repeat(257), 'Ala')).toBe('too_long');
    expect(passwordProblem('my-NIGHT SHIFT-pass', 'Night shift')).toBe('contains_name');
    expect(passwordProblem('night shift!', 'Night shift')).toBe('contains_name');
    expect(passwordProblem('a long enough passphrase', 'Night shift')).toBeNull();
    // Characters, not bytes: 12 emoji are 12 characters.
    expect(passwordProblem('🔒'.repeat(12), 'x')).toBeNull();
  });
});

describe('lockout rule', () => {
  const policy = { maxFailures: 3, periodMs: 60_000 };
  it('locks a key at its limit within the period, for the period; an old failure starts afresh', () => {
    let c = afterFailure(undefined, 0, policy);
    c = afterFailure(c, 10_000, policy);
    expect(lockedFor(c, 10_000)).toBe(0);
    c = afterFailure(c, 20_000, policy);
    expect(lockedFor(c, 20_000)).toBe(60_000);
    expect(lockedFor(c, 79_999)).toBe(1);
    expect(lockedFor(c, 80_000)).toBe(0);
    // After the lock ended, the count starts again from one.
    expect(afterFailure(c, 80_000, policy)).toEqual({ failures: 1, firstAt: 80_000, lockedUntil: null });
    // Failures spread wider than the period never lock.
    let slow = afterFailure(undefined, 0, policy);
    slow = afterFailure(slow, 40_000, policy);
    slow = afterFailure(slow, 70_000, policy);
    expect(lockedFor(slow, 70_000)).toBe(0);
  });
});

describe('TOTP', () => {
  it('accepts the code of now and one step either side, never the same step twice nor an older one', () => {
    const secret = newTotpSecret();
    const now = Date.UTC(2026, 5, 1, 12, 0, 10);
    const step = Math.floor(now / 30_000);
    expect(acceptTotp(secret, totpCode(secret, now), now, null)).toBe(step);
    expect(acceptTotp(secret, totpCode(secret, now - 30_000), now, null)).toBe(step - 1);
    expect(acceptTotp(secret, totpCode(secret, now + 30_000), now, null)).toBe(step + 1);
    expect(acceptTotp(secret, totpCode(secret, now - 90_000), now, null)).toBeNull();
    expect(acceptTotp(secret, totpCode(secret, now), now, step)).toBeNull();
    expect(acceptTotp(secret, totpCode(secret, now - 30_000), now, step)).toBeNull();
    expect(acceptTotp(secret, totpCode(secret, now + 30_000), now, step)).toBe(step + 1);
    expect(acceptTotp(secret, '12345', now, null)).toBeNull();
    expect(acceptTotp(secret, 'abcdef', now, null)).toBeNull();
    expect(totpUri(secret, 'Night shift')).toMatch(new RegExp(`^otpauth://totp/Lockstep:Night%20shift\\?issuer=Lockstep&secret=${secret}&algorithm=SHA1&digits=6&period=30$`));
  });

  it('secrets are sealed for one account under the data folder key', () => {
    const box = new SecretBox(Buffer.alloc(32, 1), 'totp secrets');
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'acc_1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'acc_1')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'acc_2')).toBeNull();
    expect(new SecretBox(Buffer.alloc(32, 2), 'totp secrets').open(sealed, 'acc_1')).toBeNull();
    expect(box.open(sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'AB' : 'AA'), 'acc_1')).toBeNull();
  });
});
