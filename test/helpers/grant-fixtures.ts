import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { GRANT_ISSUER, signGrant, type GrantClaims } from '../../shared/grants.js';
import type { PublicJwk } from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const PIN_KEY = Buffer.alloc(32, 7);

export interface Signer {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
}

export async function makeSigner(kid = 'k1'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x), kid, alg: 'EdDSA', use: 'sig' } };
}

export function claims(overrides: Partial<GrantClaims> = {}): GrantClaims {
  const now = Math.floor(T0 / 1000);
  return {
    iss: GRANT_ISSUER,
    aud: 'lk_one',
    sub: 'p_1',
    jti: 'j_1',
    act: 'pickup',
    cmp: 'A1',
    ph: pinHash(PIN_KEY, '12345678'),
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...overrides,
  };
}

export function sign(signer: Signer, overrides: Partial<GrantClaims> = {}): Promise<string> {
  return signGrant(claims(overrides), signer.privateKey, signer.kid);
}
