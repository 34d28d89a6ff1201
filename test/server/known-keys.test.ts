import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { KnownKeys } from '../../server/broker/known-keys.js';
import { signBrokerToken } from '../../shared/broker-credentials.js';

/** The keys a process last read for lockers, sorting sign-ins before the line (server/broker/known-keys.ts). */
async function deviceKey() {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, stored: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }) };
}

const NOW = Date.UTC(2026, 11, 4, 12);

describe('known keys', () => {
  it('says unknown before any check read the locker, verified for a token of the key read, doubtful otherwise', async () => {
    const known = new KnownKeys();
    const [mine, other] = await Promise.all([deviceKey(), deviceKey()]);
    const good = await signBrokerToken(mine.privateKey, 'l-1', NOW, 'jti-1');
    expect(await known.precheck('l-1', good, NOW)).toEqual({ verdict: 'unknown' });

    known.remember('l-1', mine.stored);
    expect(await known.precheck('l-1', good, NOW)).toEqual({ verdict: 'verified', key: mine.stored });
    // Signed with another key, for another locker, expired, or not a token at all.
    expect((await known.precheck('l-1', await signBrokerToken(other.privateKey, 'l-1', NOW, 'jti-2'), NOW)).verdict).toBe('doubtful');
    expect((await known.precheck('l-1', await signBrokerToken(mine.privateKey, 'l-2', NOW, 'jti-3'), NOW)).verdict).toBe('doubtful');
    expect((await known.precheck('l-1', good, NOW + 2 * 24 * 3600_000)).verdict).toBe('doubtful');
    expect((await known.precheck('l-1', 'not.a.token', NOW)).verdict).toBe('doubtful');

    // A locker read with no key (not enrolled, retired, or no such locker): every token is doubtful until a check
    // reads a key for it.
    known.remember('l-1', null);
    expect((await known.precheck('l-1', good, NOW)).verdict).toBe('doubtful');
    known.remember('l-1', mine.stored);
    expect((await known.precheck('l-1', good, NOW)).verdict).toBe('verified');
    // Accepted once: the same token again is a replay (doubtful), a new one is not; the key read again keeps that.
    known.accepted('l-1', 'jti-1');
    known.remember('l-1', mine.stored);
    expect((await known.precheck('l-1', good, NOW)).verdict).toBe('doubtful');
    expect((await known.precheck('l-1', await signBrokerToken(mine.privateKey, 'l-1', NOW, 'jti-4'), NOW)).verdict).toBe('verified');
    // Revoked: forgotten.
    known.forget('l-1');
    expect(await known.precheck('l-1', good, NOW)).toEqual({ verdict: 'unknown' });
  });

  it('keeps ids read without a key apart: made-up ids do not push real keys out', async () => {
    const known = new KnownKeys(2, 2);
    const { privateKey, stored } = await deviceKey();
    for (const id of ['l-1', 'l-2']) known.remember(id, stored);
    for (let i = 0; i < 100; i++) known.remember(`made-up-${i}`, null);
    const verdictOf = async (id: string) => (await known.precheck(id, await signBrokerToken(privateKey, id, NOW, `jti-${id}`), NOW)).verdict;
    expect([await verdictOf('l-1'), await verdictOf('l-2')]).toEqual(['verified', 'verified']);
    expect([await verdictOf('made-up-99'), await verdictOf('made-up-0')]).toEqual(['doubtful', 'unknown']);
    expect(known.size).toBe(4);
  });

  it('keeps at most its bound, letting go of the lockers read longest ago', async () => {
    const known = new KnownKeys(3, 3);
    const { privateKey, stored } = await deviceKey();
    for (const id of ['l-1', 'l-2', 'l-3']) known.remember(id, stored);
    // Read again: now the newest.
    known.remember('l-1', stored);
    known.remember('l-4', stored);
    expect(known.size).toBe(3);
    const verdictOf = async (id: string) => (await known.precheck(id, await signBrokerToken(privateKey, id, NOW, `jti-${id}`), NOW)).verdict;
    expect(await verdictOf('l-2')).toBe('unknown');
    for (const id of ['l-1', 'l-3', 'l-4']) expect(await verdictOf(id)).toBe('verified');
  });
});
