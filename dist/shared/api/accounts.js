import { Type } from '@sinclair/typebox';
/** Roles an API account can hold (the bootstrap admin token acts as `admin`). */
export const ACCOUNT_ROLES = ['admin', 'operator', 'carrier'];
export const Role = Type.Union(ACCOUNT_ROLES.map((r) => Type.Literal(r)));
export const AccountView = Type.Object({
    id: Type.String(),
    name: Type.String(),
    role: Role,
    createdAt: Type.Integer(),
    disabled: Type.Boolean(),
});
/** GET /v1/accounts */
export const AccountList = Type.Object({ accounts: Type.Array(AccountView) });
/** A token as listed: never the token itself, which is shown only when issued. */
export const TokenView = Type.Object({
    id: Type.String(),
    createdAt: Type.Integer(),
    expiresAt: Type.Integer(),
    revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});
/** A freshly issued token: the bearer token appears here once. */
export const IssuedTokenView = Type.Object({
    /** The token id (`jti`): what an admin revokes. */
    id: Type.String(),
    /** The bearer token; shown once, never stored. */
    token: Type.String(),
    createdAt: Type.Integer(),
    expiresAt: Type.Integer(),
});
/** POST /v1/accounts */
export const CreateAccountBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false });
/** The answer to POST /v1/accounts: the account and its first token (shown once). */
export const CreatedAccountView = Type.Intersect([AccountView, Type.Object({ token: Type.String(), tokenId: Type.String(), tokenExpiresAt: Type.Integer() })]);
/** GET /v1/accounts/:id */
export const AccountWithTokensView = Type.Intersect([AccountView, Type.Object({ tokens: Type.Array(TokenView) })]);
/** POST /v1/admin/rotate-token: the new bootstrap admin token, shown once. */
export const RotatedTokenView = Type.Object({ token: Type.String() });
//# sourceMappingURL=accounts.js.map