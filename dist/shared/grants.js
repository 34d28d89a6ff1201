import { KeyObject as NodeKeyObject, sign as ed25519Sign } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { base64url, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { CompartmentId, LockerId, OpaqueId } from './ids.js';
import { GrantAction } from './messages.js';
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
const claimsCheck = TypeCompiler.Compile(GrantClaims);
/** node:crypto's view of each WebCrypto key that signs grants (the conversion is done once per key). */
const keyObjects = new WeakMap();
function keyObjectOf(key) {
    if (key instanceof NodeKeyObject)
        return key;
    let k = keyObjects.get(key);
    if (!k)
        keyObjects.set(key, (k = NodeKeyObject.from(key)));
    return k;
}
const b64 = (text) => Buffer.from(text).toString('base64url');
/**
 * Signs a grant as a compact JWS, synchronously on this thread: node:crypto signs Ed25519 about twice as fast as
 * jose's WebCrypto path, which also waits for the libuv pool. Ed25519 is deterministic and the header is
 * serialised as jose does (alg, typ, kid), so the token is byte for byte the one jose's CompactSign makes.
 */
export function signGrantNow(claims, key, kid) {
    const input = `${b64(JSON.stringify({ alg: GRANT_ALG, typ: GRANT_TYP, kid }))}.${b64(JSON.stringify(claims))}`;
    return `${input}.${ed25519Sign(null, Buffer.from(input), keyObjectOf(key)).toString('base64url')}`;
}
export async function signGrant(claims, key, kid) {
    return signGrantNow(claims, key, kid);
}
/**
 * Verifies grants against a fixed set of public keys (the keys a locker was given). Order of checks, each
 * with its own verdict: header (alg, typ, kid), signature, claims shape, audience, window, action.
 */
export class GrantVerifier {
    #jwks = new Map();
    #keys = new Map();
    constructor(keys) {
        for (const k of keys)
            this.#jwks.set(k.kid, k);
    }
    async verify(token, check) {
        let header;
        try {
            header = decodeProtectedHeader(token);
        }
        catch {
            return { ok: false, code: 'MALFORMED' };
        }
        if (token.split('.').length !== 3)
            return { ok: false, code: 'MALFORMED' };
        if (header.alg !== GRANT_ALG)
            return { ok: false, code: 'BAD_ALGORITHM' };
        if (header.typ !== GRANT_TYP)
            return { ok: false, code: 'WRONG_TYPE' };
        // No header extensions: `crit` (and with it RFC 7797's unencoded `b64: false` payloads) is refused.
        if (header.crit !== undefined || header.b64 !== undefined)
            return { ok: false, code: 'MALFORMED' };
        if (typeof header.kid !== 'string')
            return { ok: false, code: 'UNKNOWN_KEY' };
        const key = this.#key(header.kid);
        if (!key)
            return { ok: false, code: 'UNKNOWN_KEY' };
        let payload;
        try {
            ({ payload } = await compactVerify(token, await key, { algorithms: [GRANT_ALG] }));
        }
        catch {
            return { ok: false, code: 'BAD_SIGNATURE' };
        }
        let claims;
        try {
            claims = JSON.parse(new TextDecoder().decode(payload));
        }
        catch {
            return { ok: false, code: 'MALFORMED' };
        }
        if (!claimsCheck.Check(claims))
            return { ok: false, code: 'MALFORMED' };
        const verdict = checkClaims(claims, check);
        return verdict ? { ok: false, code: verdict } : { ok: true, claims, kid: header.kid };
    }
    #key(kid) {
        const cached = this.#keys.get(kid);
        if (cached)
            return cached;
        const jwk = this.#jwks.get(kid);
        if (!jwk)
            return undefined;
        const imported = importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, GRANT_ALG);
        this.#keys.set(kid, imported);
        return imported;
    }
}
/** The claim rules alone (audience, window, action), for claims whose signature was already checked. */
export function checkClaims(claims, check) {
    if (claims.aud !== check.lockerId)
        return 'WRONG_LOCKER';
    if (check.now !== null) {
        const nowSec = Math.floor(check.now / 1000);
        if (nowSec + check.clockToleranceSec < claims.nbf)
            return 'NOT_YET_VALID';
        if (nowSec - check.clockToleranceSec >= claims.exp)
            return 'EXPIRED';
    }
    if (check.action !== undefined && claims.act !== check.action)
        return 'WRONG_ACTION';
    return null;
}
/** Reads the claims of a grant without verifying it (for routing only, never for a decision). */
export function peekGrantClaims(token) {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts[1])
        return null;
    try {
        return JSON.parse(new TextDecoder().decode(base64url.decode(parts[1])));
    }
    catch {
        return null;
    }
}
//# sourceMappingURL=grants.js.map