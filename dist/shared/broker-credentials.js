import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { LockerId, OpaqueId } from './ids.js';
/**
 * How a locker signs in to the broker: MQTT username = client id = locker id, password = a short-lived token
 * signed with the locker's own Ed25519 key (made on the device at enrolment; the server holds only the public
 * key). No shared secret exists, and a token taken from one connection expires within minutes.
 */
export const BROKER_TOKEN_TYP = 'lockstep-broker+jwt';
export const BROKER_AUDIENCE = 'lockstep-broker';
/** Longest lifetime a broker token may claim. */
const MAX_BROKER_TOKEN_LIFETIME_SEC = 600;
const BrokerTokenClaims = Type.Object({
    iss: LockerId,
    aud: Type.Literal(BROKER_AUDIENCE),
    iat: Type.Integer({ minimum: 0 }),
    exp: Type.Integer({ minimum: 0 }),
    jti: OpaqueId,
});
const claimsCheck = TypeCompiler.Compile(BrokerTokenClaims);
/** The device's public key as sent at enrolment (Ed25519, JWK). */
export const DevicePublicKey = Type.Object({ kty: Type.Literal('OKP'), crv: Type.Literal('Ed25519'), x: Type.String({ minLength: 43, maxLength: 43 }) }, { additionalProperties: false });
export async function signBrokerToken(key, lockerId, nowMs, jti, lifetimeSec = 300) {
    const iat = Math.floor(nowMs / 1000);
    const claims = { iss: lockerId, aud: BROKER_AUDIENCE, iat, exp: iat + Math.min(lifetimeSec, MAX_BROKER_TOKEN_LIFETIME_SEC), jti };
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'EdDSA', typ: BROKER_TOKEN_TYP }).sign(key);
}
/** Checks a broker token against the locker's enrolled public key. */
export async function verifyBrokerToken(token, key, lockerId, nowMs, toleranceSec) {
    let payload;
    try {
        const header = decodeProtectedHeader(token);
        if (header.alg !== 'EdDSA' || header.typ !== BROKER_TOKEN_TYP || header.crit !== undefined || header.b64 !== undefined)
            return 'MALFORMED';
        ({ payload } = await compactVerify(token, await importJWK({ ...key }, 'EdDSA'), { algorithms: ['EdDSA'] }));
    }
    catch {
        return 'BAD_SIGNATURE';
    }
    let claims;
    try {
        claims = JSON.parse(new TextDecoder().decode(payload));
    }
    catch {
        return 'MALFORMED';
    }
    if (!claimsCheck.Check(claims))
        return 'MALFORMED';
    if (claims.iss !== lockerId)
        return 'WRONG_LOCKER';
    const now = Math.floor(nowMs / 1000);
    if (claims.exp - claims.iat > MAX_BROKER_TOKEN_LIFETIME_SEC)
        return 'TOO_LONG';
    if (now + toleranceSec < claims.iat || now - toleranceSec >= claims.exp)
        return 'EXPIRED';
    return 'OK';
}
//# sourceMappingURL=broker-credentials.js.map