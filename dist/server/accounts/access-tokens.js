import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SignJWT, errors, jwtVerify } from 'jose';
import { Role } from '../../shared/api/accounts.js';
/** Fixed parts of every API access token (RFC 9068 style): HS256, typ "at+jwt", our issuer and audience. */
const ACCESS_TOKEN_ALG = 'HS256';
const ACCESS_TOKEN_TYP = 'at+jwt';
const ACCESS_TOKEN_ISSUER = 'lockstep';
const ACCESS_TOKEN_AUDIENCE = 'lockstep-api';
/** The claims the server relies on, checked after the signature. */
const AccessClaims = Type.Object({
    sub: Type.String({ minLength: 1, maxLength: 64 }),
    jti: Type.String({ minLength: 1, maxLength: 64 }),
    role: Role,
    exp: Type.Integer(),
    iat: Type.Integer(),
});
const checkClaims = TypeCompiler.Compile(AccessClaims);
function newTokenId() {
    return `tok_${randomBytes(12).toString('hex')}`;
}
/**
 * Signs and verifies API access tokens with an HMAC secret kept in the data folder. Only the signature and the
 * claims are checked here; whether the token was revoked or its account disabled is the authenticator's job.
 */
export class AccessTokens {
    secret;
    clock;
    ttlSec;
    constructor(secret, clock, ttlSec) {
        this.secret = secret;
        this.clock = clock;
        this.ttlSec = ttlSec;
    }
    async issue(account) {
        const id = newTokenId();
        const now = this.clock.now();
        const iat = Math.floor(now / 1000);
        const exp = iat + this.ttlSec;
        const token = await new SignJWT({ role: account.role })
            .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP })
            .setIssuer(ACCESS_TOKEN_ISSUER)
            .setAudience(ACCESS_TOKEN_AUDIENCE)
            .setSubject(account.id)
            .setJti(id)
            .setIssuedAt(iat)
            .setExpirationTime(exp)
            .sign(this.secret);
        return { id, token, createdAt: now, expiresAt: exp * 1000 };
    }
    /** The token's claims when its signature, type, issuer, audience and window hold; null otherwise. */
    async verify(token) {
        try {
            const { payload } = await jwtVerify(token, this.secret, {
                algorithms: [ACCESS_TOKEN_ALG],
                typ: ACCESS_TOKEN_TYP,
                issuer: ACCESS_TOKEN_ISSUER,
                audience: ACCESS_TOKEN_AUDIENCE,
                requiredClaims: ['sub', 'jti', 'exp', 'iat'],
                currentDate: new Date(this.clock.now()),
            });
            return checkClaims.Check(payload) ? payload : null;
        }
        catch (err) {
            if (err instanceof errors.JOSEError)
                return null;
            throw err;
        }
    }
}
//# sourceMappingURL=access-tokens.js.map