import { Type } from '@sinclair/typebox';
import { PublicJwk } from '../messages.js';
/**
 * `next`: delivered to lockers, not signing yet; `active`: signs every new grant (exactly one); `previous`: signs
 * nothing, kept while grants it signed may be live; `retired`: gone from the JWKS and the lockers' key sets.
 */
export const SIGNING_KEY_STATUSES = ['next', 'active', 'previous', 'retired'];
export const SigningKeyStatus = Type.Union(SIGNING_KEY_STATUSES.map((s) => Type.Literal(s)));
/** GET /.well-known/jwks.json */
export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) });
export const KeyView = Type.Object({
    kid: Type.String(),
    status: SigningKeyStatus,
    publicJwk: PublicJwk,
    createdAt: Type.Integer(),
    activatedAt: Type.Union([Type.Integer(), Type.Null()]),
    retiredAt: Type.Union([Type.Integer(), Type.Null()]),
    /** Grants signed with the key that a locker may still accept. */
    liveGrants: Type.Integer(),
    /** For the next key: lockers heard from that have not yet reported the version that carried it. */
    pendingLockers: Type.Union([Type.Integer(), Type.Null()]),
});
export const KeyList = Type.Object({ keys: Type.Array(KeyView) });
//# sourceMappingURL=keys.js.map