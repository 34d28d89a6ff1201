import { describe, expect, it } from 'vitest';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { BROKER_AUDIENCE, BROKER_TOKEN_TYP, signBrokerToken, verifyBrokerToken } from '../../shared/broker-credentials.js';

const NOW = Date.UTC(2026, 5, 1);

async function key() {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey: { kty: 'OKP' as const, crv: 'Ed25519' as const, x: String(jwk.x) } };
}

describe('broker tokens', () => {
  it('verify for the locker that signed them, inside their lifetime', async () => {
    const k = await key();
    const token = await signBrokerToken(k.privateKey, 'lk_a', NOW, 'j1');
    expect(await verifyBrokerToken(token, k.publicKey, 'lk_a', NOW + 60_000, 30)).toBe('OK');
    expect(await verifyBrokerToken(token, k.publicKey, 'lk_b', NOW, 30)).toBe('WRONG_LOCKER');
    expect(await verifyBrokerToken(token, k.publicKey, 'lk_a', NOW + 3600_000, 30)).toBe('EXPIRED');
    expect(await verifyBrokerToken(token, k.publicKey, 'lk_a', NOW - 3600_000, 30)).toBe('EXPIRED');
    expect(await verifyBrokerToken(token, (await key()).publicKey, 'lk_a', NOW, 30)).toBe('BAD_SIGNATURE');
  });

  it('never claim more than ten minutes, and a token that does is refused', async () => {
    const k = await key();
    const clamped = await signBrokerToken(k.privateKey, 'lk_a', NOW, 'j1', 86_400);
    expect(await verifyBrokerToken(clamped, k.publicKey, 'lk_a', NOW + 601_000, 0)).toBe('EXPIRED');
    const iat = Math.floor(NOW / 1000);
    const long = await new CompactSign(new TextEncoder().encode(JSON.stringify({ iss: 'lk_a', aud: BROKER_AUDIENCE, iat, exp: iat + 86_400, jti: 'j2' })))
      .setProtectedHeader({ alg: 'EdDSA', typ: BROKER_TOKEN_TYP })
      .sign(k.privateKey);
    expect(await verifyBrokerToken(long, k.publicKey, 'lk_a', NOW, 0)).toBe('TOO_LONG');
  });

  it('refuse other token types and garbage', async () => {
    const k = await key();
    const grantLike = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'EdDSA', typ: 'lockstep-grant+jwt' }).sign(k.privateKey);
    expect(await verifyBrokerToken(grantLike, k.publicKey, 'lk_a', NOW, 0)).toBe('MALFORMED');
    expect(await verifyBrokerToken('garbage', k.publicKey, 'lk_a', NOW, 0)).toBe('BAD_SIGNATURE');
  });
});
