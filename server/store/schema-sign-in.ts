import type { Selectable } from 'kysely';

/** Operator sign-in tables (migration 018, issue 19). schema.ts adds them to `Database`. */

/** An operator's or admin's password and second factor. Neither the password nor the TOTP secret is ever logged. */
export interface AccountCredentialsTable {
  account_id: string;
  /** `$scrypt$ln=…,r=…,p=…$salt$hash` (server/accounts/passwords.ts); null: no password set. */
  password_hash: string | null;
  password_set_at: number | null;
  /** The TOTP secret, encrypted (server/accounts/secret-box.ts); pending until `totp_enabled`. */
  totp_secret: string | null;
  totp_enabled: number;
  /** The last time step whose code was accepted: a code of that step or earlier is refused (no replay). */
  totp_last_step: number | null;
  updated_at: number;
}

/** A signed-in browser: the SHA-256 of its cookie value (the value itself is never stored). */
export interface SignInSessionsTable {
  id_hash: string;
  account_id: string;
  created_at: number;
  last_seen_at: number;
  /** The absolute end (sign-in time + SESSION_MAX_SEC). */
  expires_at: number;
  address: string | null;
  user_agent: string | null;
}

/** Failed sign-ins counted per key (`name:<account name>` or `address:<ip>`) over the lockout period. */
export interface SignInFailuresTable {
  key: string;
  failures: number;
  first_at: number;
  locked_until: number | null;
}

export interface SignInTables {
  account_credentials: AccountCredentialsTable;
  sign_in_sessions: SignInSessionsTable;
  sign_in_failures: SignInFailuresTable;
}

export type AccountCredentialsRow = Selectable<AccountCredentialsTable>;
export type SignInSessionRow = Selectable<SignInSessionsTable>;
