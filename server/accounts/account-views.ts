import { Type, type Static } from '@sinclair/typebox';
import { ACCOUNT_ROLES, type AccountRow, type AccountTokenRow } from '../store/schema.js';

export const RoleSchema = Type.Union(ACCOUNT_ROLES.map((r) => Type.Literal(r)));

export const AccountView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  createdAt: Type.Integer(),
  disabled: Type.Boolean(),
});
export type AccountView = Static<typeof AccountView>;

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
  id: Type.String(),
  token: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
});

export function accountView(a: AccountRow): AccountView {
  return { id: a.id, name: a.name, role: a.role, createdAt: a.created_at, disabled: a.disabled !== 0 };
}

export function tokenView(t: AccountTokenRow): TokenView {
  return { id: t.jti, createdAt: t.created_at, expiresAt: t.expires_at, revokedAt: t.revoked_at };
}
