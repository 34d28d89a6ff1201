import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import { GRANT_ALG, GRANT_ISSUER, GRANT_TYP, signGrant, type GrantClaims } from '../shared/grants.js';
import { round } from './stats.js';

/** Ed25519 signatures per second on one thread of this machine, four ways. */
export interface SigningRates {
  /** node:crypto `sign(null, data, KeyObject)`: the raw rate of the machine. */
  nodeCrypto: number;
  /** jose `SignJWT` with a WebCrypto CryptoKey (the key type the server holds). */
  joseCryptoKey: number;
  /** jose `SignJWT` with a node:crypto KeyObject. */
  joseKeyObject: number;
  /** The server's own call (shared/grants.ts `signGrant`, jose CompactSign, CryptoKey). */
  serverSignGrant: number;
}

const IN_FLIGHT = 32;

function claims(i: number): GrantClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: GRANT_ISSUER,
    aud: 'lk_0123456789abcdef',
    sub: 'p_0123456789abcdef0123456789abcdef',
    jti: `${randomBytes(12).toString('base64url').slice(0, 12)}${i}`,
    act: 'deposit',
    cmp: 'A1',
    ph: 'x'.repeat(43),
    iat: now,
    nbf: now,
    exp: now + 3 * 86_400,
  };
}

async function rate(ms: number, one: (i: number) => Promise<unknown> | unknown, inFlight: number): Promise<number> {
  for (let i = 0; i < 200; i++) await one(i); // warm-up (JIT, key import)
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await one(n);
      n++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return round(n / ((performance.now() - start) / 1000));
}

export async function measureSigning(ms: number): Promise<SigningRates> {
  const { privateKey: keyObject } = generateKeyPairSync('ed25519');
  const { privateKey: cryptoKey } = (await generateKeyPair('Ed25519')) as { privateKey: CryptoKey };
  const header = Buffer.from(JSON.stringify({ alg: GRANT_ALG, typ: GRANT_TYP, kid: 'k1' })).toString('base64url');
  const input = (i: number) => Buffer.from(`${header}.${Buffer.from(JSON.stringify(claims(i))).toString('base64url')}`);
  const jwt = (i: number) => new SignJWT({ ...claims(i) }).setProtectedHeader({ alg: GRANT_ALG, typ: GRANT_TYP, kid: 'k1' });
  return {
    nodeCrypto: await rate(ms, (i) => sign(null, input(i), keyObject), 1),
    joseCryptoKey: await rate(ms, (i) => jwt(i).sign(cryptoKey), IN_FLIGHT),
    joseKeyObject: await rate(ms, (i) => jwt(i).sign(keyObject), IN_FLIGHT),
    serverSignGrant: await rate(ms, (i) => signGrant(claims(i), cryptoKey, 'k1'), IN_FLIGHT),
  };
}
