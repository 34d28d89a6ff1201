import type { AccountView, TokenView } from '../../shared/api/accounts.js';
import type { AccountRow, AccountTokenRow } from '../store/schema.js';
import type { AccountCredentialsRow } from '../store/schema-sign-in.js';
import { SIGN_IN_ROLES } from './sessions.js';

/** What the views add about sign-in (operator and admin accounts only). */
export interface SignInFacts {
  credentials: Map<string, AccountCredentialsRow>;
  activeSessions: Map<string, number>;
}

export function accountView(a: AccountRow, facts?: SignInFacts): AccountView {
  const view: AccountView = { id: a.id, name: a.name, role: a.role, createdAt: a.created_at, disabled: a.disabled !== 0 };
  if (facts && SIGN_IN_ROLES.includes(a.role)) {
    const c = facts.credentials.get(a.id);
    view.signIn = { password: Boolean(c?.password_hash), totp: c?.totp_enabled === 1, activeSessions: facts.activeSessions.get(a.id) ?? 0 };
  }
  return view;
}

export function tokenView(t: AccountTokenRow): TokenView {
  return { id: t.jti, createdAt: t.created_at, expiresAt: t.expires_at, revokedAt: t.revoked_at };
}
