import { findTokenAccount } from './account-store.js';
import { BOOTSTRAP_ADMIN_ID } from './principal.js';
/**
 * Turns a bearer token into a principal, or null when it is unknown, forged, expired, revoked, or its account
 * is disabled. The reason is not told to the caller (all of them are UNAUTHENTICATED).
 */
export function makeAuthenticator(deps) {
    return async (token) => {
        if (deps.bootstrap.matches(token))
            return { id: BOOTSTRAP_ADMIN_ID, role: 'admin' };
        const claims = await deps.tokens.verify(token);
        if (!claims)
            return null;
        const row = await findTokenAccount(deps.db, claims.jti);
        if (!row ||
            row.account_id !== claims.sub ||
            row.role !== claims.role ||
            row.disabled !== 0 ||
            row.revoked_at !== null ||
            row.expires_at <= deps.clock.now()) {
            return null;
        }
        return { id: claims.sub, role: claims.role };
    };
}
//# sourceMappingURL=authenticator.js.map