import { Type, type Static } from '@sinclair/typebox';

/** Roles an API account can hold (the bootstrap admin token acts as `admin`). */
export const ACCOUNT_ROLES = ['admin', 'operator', 'carrier'] as const;
export const Role = Type.Union(ACCOUNT_ROLES.map((r) => Type.Literal(r)));
export type Role = (typeof ACCOUNT_ROLES)[number];

export const AccountView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  createdAt: Type.Integer(),
  disabled: Type.Boolean(),
  /** Operator and admin accounts only (issue 19): whether it has a password and a second factor, and its live sessions. */
  signIn: Type.Optional(Type.Object({ password: Type.Boolean(), totp: Type.Boolean(), activeSessions: Type.Integer() })),
});
export type AccountView = Static<typeof AccountView>;

/** GET /v1/accounts */
export const AccountList = Type.Object({ accounts: Type.Array(AccountView) });
export type AccountList = Static<typeof AccountList>;

/** A token as listed: never the token itself, which is shown only when issued. */
export const TokenView = Type.Object({
  id: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});
export type TokenView = Static<typeof TokenView>;

/** A freshly issued token: the bearer token appears here once. */
export const IssuedTokenView = Type.Object({
  /** The token id (`jti`): what an admin revokes. */
  id: Type.String(),
  /** The bearer token; shown once, never stored. */
  token: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
});
export type IssuedTokenView = Static<typeof IssuedTokenView>;

/** POST /v1/accounts */
export const CreateAccountBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false });
export type CreateAccountBody = Static<typeof CreateAccountBody>;

/** The answer to POST /v1/accounts: the account and its first token (shown once). */
export const CreatedAccountView = Type.Intersect([AccountView, Type.Object({ token: Type.String(), tokenId: Type.String(), tokenExpiresAt: Type.Integer() })]);
export type CreatedAccountView = Static<typeof CreatedAccountView>;

/** GET /v1/accounts/:id */
export const AccountWithTokensView = Type.Intersect([AccountView, Type.Object({ tokens: Type.Array(TokenView) })]);
export type AccountWithTokensView = Static<typeof AccountWithTokensView>;

/** POST /v1/admin/rotate-token: the new bootstrap admin token, shown once. */
export const RotatedTokenView = Type.Object({ token: Type.String() });
export type RotatedTokenView = Static<typeof RotatedTokenView>;
