import { KeyObject as NodeKeyObject, sign as ed25519Sign, type webcrypto } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { base64url, compactVerify, decodeProtectedHeader, importJWK, type CryptoKey, type KeyObject } from 'jose';
import { CompartmentId, LockerId, OpaqueId } from './ids.js';
import { GrantAction, type PublicJwk } from './messages.js';

/** JWS header `typ` of every grant: a grant is never confused with another kind of token. */
export const GRANT_TYP = 'lockstep-grant+jwt';
export const GRANT_ALG = 'EdDSA';
export const GRANT_ISSUER = 'lockstep';

/** The claims of a grant. Times are seconds since the epoch, as in JWT. */
export const GrantClaims = Type.Object({
  iss: Type.Literal(GRANT_ISSUER),
  /** The one locker this grant works at. */
  aud: LockerId,
  /** The parcel. */
  sub: OpaqueId,
  jti: OpaqueId,
  act: GrantAction,
  /** The compartment the grant opens. */
  cmp: CompartmentId,
  /** Keyed hash of the PIN (see pin.ts); never the PIN. */
  ph: Type.String({ minLength: 43, maxLength: 43 }),
  iat: Type.Integer({ minimum: 0 }),
  nbf: Type.Integer({ minimum: 0 }),
  exp: Type.Integer({ minimum: 0 }),
});
export type GrantClaims = Static<typeof GrantClaims>;
const claimsCheck = TypeCompiler.Compile(GrantClaims);

export type GrantVerdictCode =
  | 'MALFORMED'
  | 'BAD_ALGORITHM'
  | 'WRONG_TYPE'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'WRONG_LOCKER'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'WRONG_ACTION';

export type GrantVerdict = { ok: true; claims: GrantClaims; kid: string } | { ok: false; code: GrantVerdictCode };

export interface GrantCheck {
  /** The locker doing the check: must equal `aud`. */
  lockerId: string;
  /** Current time in milliseconds; null skips the window (when a grant is stored, to be checked at use). */
  now: number | null;
  /** Slack, in seconds, on both ends of the validity window. */
  clockToleranceSec: number;
  /** When given, the grant must be for this action. */
  action?: GrantAction;
}

/** node:crypto's view of each WebCrypto key that signs grants (the conversion is done once per key). */
const keyObjects = new WeakMap<object, NodeKeyObject>();

function keyObjectOf(key: CryptoKey | KeyObject): NodeKeyObject {
  if (key instanceof NodeKeyObject) return key;
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = NodeKeyObject.from(key as unknown as webcrypto.CryptoKey)));
  return k;
}

const b64 = (text: string) => Buffer.from(text).toString('base64url');

/**
 * Signs a grant as a compact JWS, synchronously on this thread: node:crypto signs Ed25519 about twice as fast as
 * jose's WebCrypto path, which also waits for the libuv pool. Ed25519 is deterministic and the header is
 * serialised as jose does (alg, typ, kid), so the token is byte for byte the one jose's CompactSign makes.
 */
export function signGrantNow(claims: GrantClaims, key: CryptoKey | KeyObject, kid: string): string {
  const input = `${b64(JSON.stringify({ alg: GRANT_ALG, typ: GRANT_TYP, kid }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${ed25519Sign(null, Buffer.from(input), keyObjectOf(key)).toString('base64url')}`;
}

export async function signGrant(claims: GrantClaims, key: CryptoKey | KeyObject, kid: string): Promise<string> {
  return signGrantNow(claims, key, kid);
}

/**
 * Verifies grants against a fixed set of public keys (the keys a locker was given). Order of checks, each
 * with its own verdict: header (alg, typ, kid), signature, claims shape, audience, window, action.
 */
export class GrantVerifier {
  readonly #jwks = new Map<string, PublicJwk>();
  readonly #keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(keys: readonly PublicJwk[]) {
    for (const k of keys) this.#jwks.set(k.kid, k);
  }

  async verify(token: string, check: GrantCheck): Promise<GrantVerdict> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return { ok: false, code: 'MALFORMED' };
    }
    if (token.split('.').length !== 3) return { ok: false, code: 'MALFORMED' };
    if (header.alg !== GRANT_ALG) return { ok: false, code: 'BAD_ALGORITHM' };
    if (header.typ !== GRANT_TYP) return { ok: false, code: 'WRONG_TYPE' };
    // No header extensions: `crit` (and with it RFC 7797's unencoded `b64: false` payloads) is refused.
    if (header.crit !== undefined || header.b64 !== undefined) return { ok: false, code: 'MALFORMED' };
    if (typeof header.kid !== 'string') return { ok: false, code: 'UNKNOWN_KEY' };
    const key = this.#key(header.kid);
    if (!key) return { ok: false, code: 'UNKNOWN_KEY' };
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, await key, { algorithms: [GRANT_ALG] }));
    } catch {
      return { ok: false, code: 'BAD_SIGNATURE' };
    }
    let claims: unknown;
    try {
      claims = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return { ok: false, code: 'MALFORMED' };
    }
    if (!claimsCheck.Check(claims)) return { ok: false, code: 'MALFORMED' };
    const verdict = checkClaims(claims, check);
    return verdict ? { ok: false, code: verdict } : { ok: true, claims, kid: header.kid };
  }

  #key(kid: string): Promise<CryptoKey | Uint8Array> | undefined {
    const cached = this.#keys.get(kid);
    if (cached) return cached;
    const jwk = this.#jwks.get(kid);
    if (!jwk) return undefined;
    const imported = importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, GRANT_ALG);
    this.#keys.set(kid, imported);
    return imported;
  }
}

/** The claim rules alone (audience, window, action), for claims whose signature was already checked. */
export function checkClaims(claims: GrantClaims, check: GrantCheck): GrantVerdictCode | null {
  if (claims.aud !== check.lockerId) return 'WRONG_LOCKER';
  if (check.now !== null) {
    const nowSec = Math.floor(check.now / 1000);
    if (nowSec + check.clockToleranceSec < claims.nbf) return 'NOT_YET_VALID';
    if (nowSec - check.clockToleranceSec >= claims.exp) return 'EXPIRED';
  }
  if (check.action !== undefined && claims.act !== check.action) return 'WRONG_ACTION';
  return null;
}

/** Reads the claims of a grant without verifying it (for routing only, never for a decision). */
export function peekGrantClaims(token: string): unknown {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    return JSON.parse(new TextDecoder().decode(base64url.decode(parts[1])));
  } catch {
    return null;
  }
}
