/**
 * The fixed inputs of the protocol test vectors (times, ids, PINs, keys derived from public labels) and the
 * builders of their tokens; test/protocol/generate-vectors.ts assembles the vectors from them.
 */
import { createHash, createPrivateKey, sign as ed25519Sign, type KeyObject } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { CompactSign, base64url, type CompactJWSHeaderParameters } from 'jose';
import { GRANT_ALG, GRANT_ISSUER, GRANT_TYP, GrantClaims } from '../../shared/grants.js';
import { PublicJwk } from '../../shared/messages.js';
import { PrivateJwk } from './vector-schema.js';

// ---- fixed inputs ---------------------------------------------------------------------------------------

/** 2026-01-01T00:00:00Z: when every vector grant was issued. */
export const ISSUED = 1_767_225_600;
export const DAY = 86_400;
/** Grants are valid for a week from issue. */
export const EXP = ISSUED + 7 * DAY;
/** 2026-01-02T00:00:00Z, in milliseconds: "now" for the vectors that are not about the window. */
export const NOW_MS = (ISSUED + DAY) * 1000;
export const TOLERANCE = 300;

export const LOCKER = 'lk_5e1f0c2a9b7d3e41';
export const OTHER_LOCKER = 'lk_0a0b0c0d0e0f1011';
const PARCEL = 'p_7c9e6679742540de944be07fc1f90ae7';
export const KID = 'vectors-2026-01';
export const DEPOSIT_PIN = '31415926';
export const PICKUP_PIN = '48213579';
export const BATCH_PIN = '27182818';
export const PIN_EXAMPLES = ['0000', '1234', '00000000', '12345678', DEPOSIT_PIN, PICKUP_PIN, '999999999999'];

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** 32 bytes derived from a public label: fixed, and visibly not chosen to hide anything. */
export function fixedBytes(label: string): Buffer {
  return createHash('sha256').update(`lockstep-protocol-vectors-v1/${label}`).digest();
}

interface VectorKey {
  privateKey: KeyObject;
  privateJwk: Static<typeof PrivateJwk>;
  publicJwk: PublicJwk;
}

export function ed25519FromSeed(seed: Buffer, kid: string): VectorKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const { x, d } = privateKey.export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof d !== 'string') throw new Error('Ed25519 JWK export without x or d');
  return {
    privateKey,
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x, d, kid },
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' },
  };
}

// ---- token builders -------------------------------------------------------------------------------------

export const json64 = (value: unknown): string => base64url.encode(JSON.stringify(value));

export function claimsFor(over: Partial<GrantClaims> & Pick<GrantClaims, 'jti' | 'act' | 'cmp' | 'ph'>): GrantClaims {
  // Key order fixed here (it is the order the server signs in, too).
  return {
    iss: GRANT_ISSUER,
    aud: over.aud ?? LOCKER,
    sub: over.sub ?? PARCEL,
    jti: over.jti,
    act: over.act,
    cmp: over.cmp,
    ph: over.ph,
    iat: over.iat ?? ISSUED,
    nbf: over.nbf ?? ISSUED,
    exp: over.exp ?? EXP,
  };
}

export function sign(header: CompactJWSHeaderParameters, payload: string, key: KeyObject | Uint8Array): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader(header).sign(key);
}

export function signClaims(claims: object, key: KeyObject, header: Partial<CompactJWSHeaderParameters> = {}): Promise<string> {
  return sign({ alg: GRANT_ALG, typ: GRANT_TYP, kid: KID, ...header }, JSON.stringify(claims), key);
}

/**
 * Signs `header "." payloadPart` as they are given, with Ed25519: for headers jose will not sign (extensions in
 * `crit`) and for an RFC 7797 unencoded payload, whose middle part is the payload itself, not its base64url.
 */
export function signRaw(header: object, payloadPart: string, key: KeyObject): string {
  const input = `${json64(header)}.${payloadPart}`;
  return `${input}.${ed25519Sign(null, Buffer.from(input), key).toString('base64url')}`;
}

export function withoutKey<T extends object>(obj: T, key: keyof T): Partial<T> {
  const copy: Partial<T> = { ...obj };
  delete copy[key];
  return copy;
}

/** Replaces one character in the middle of a base64url string (a middle character always carries 6 bits). */
export function flipMiddle(segment: string): string {
  const i = Math.floor(segment.length / 2);
  const c = segment[i] === 'A' ? 'B' : 'A';
  return segment.slice(0, i) + c + segment.slice(i + 1);
}

export function parts(token: string): [string, string, string] {
  const [h, p, s, ...rest] = token.split('.');
  if (h === undefined || p === undefined || s === undefined || rest.length) throw new Error('not a compact JWS');
  return [h, p, s];
}

