import type { AccountView, TokenView } from '../../shared/api/accounts.js';
import type { AccountRow, AccountTokenRow } from '../store/schema.js';

export function accountView(a: AccountRow): AccountView {
  return { id: a.id, name: a.name, role: a.role, createdAt: a.created_at, disabled: a.disabled !== 0 };
}

export function tokenView(t: AccountTokenRow): TokenView {
  return { id: t.jti, createdAt: t.created_at, expiresAt: t.expires_at, revokedAt: t.revoked_at };
}
