import { sql } from 'kysely';
import type { Db } from '../store/database.js';
import type { AccountRow } from '../store/schema.js';
import type { AccountCredentialsRow } from '../store/schema-sign-in.js';
import type { FailureCount } from './sign-in-lockout.js';

/** SQL of the sign-in tables: credentials per account, failure counters. Sessions are in sessions.ts. */

export function findCredentials(db: Db, accountId: string): Promise<AccountCredentialsRow | undefined> {
  return db.selectFrom('account_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/** Every credentials row, by account (the accounts list shows which have a password and a second factor). */
export async function credentialsByAccount(db: Db): Promise<Map<string, AccountCredentialsRow>> {
  const rows = await db.selectFrom('account_credentials').selectAll().execute();
  return new Map(rows.map((r) => [r.account_id, r]));
}

/** Creates the row when missing, then applies the change. */
export async function updateCredentials(
  db: Db,
  accountId: string,
  change: Partial<Omit<AccountCredentialsRow, 'account_id' | 'updated_at'>>,
  now: number,
): Promise<void> {
  await db
    .insertInto('account_credentials')
    .values({ account_id: accountId, password_hash: null, password_set_at: null, totp_secret: null, totp_enabled: 0, totp_last_step: null, updated_at: now, ...change })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ ...change, updated_at: now }))
    .execute();
}

/**
 * Records an accepted TOTP step unless a later or equal one was recorded meanwhile (two sign-ins racing with the
 * same code: only one wins). True when this one won.
 */
export async function claimTotpStep(db: Db, accountId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('account_credentials')
    .set({ totp_last_step: step })
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Accounts whose name is this one, ignoring case (names are not unique among carrier accounts). */
export function accountsNamed(db: Db, name: string): Promise<AccountRow[]> {
  return db
    .selectFrom('accounts')
    .selectAll()
    .where(sql<string>`lower(name)`, '=', name.trim().toLowerCase())
    .execute();
}

export async function readFailures(db: Db, keys: string[]): Promise<Map<string, FailureCount>> {
  const rows = await db.selectFrom('sign_in_failures').selectAll().where('key', 'in', keys).execute();
  return new Map(rows.map((r) => [r.key, { failures: r.failures, firstAt: Number(r.first_at), lockedUntil: r.locked_until === null ? null : Number(r.locked_until) }]));
}

export async function writeFailure(db: Db, key: string, count: FailureCount): Promise<void> {
  const row = { failures: count.failures, first_at: count.firstAt, locked_until: count.lockedUntil };
  await db
    .insertInto('sign_in_failures')
    .values({ key, ...row })
    .onConflict((oc) => oc.column('key').doUpdateSet(row))
    .execute();
}

/** Drops counters whose period ended and that hold no lock (guessed names must not pile up forever). */
export async function pruneFailures(db: Db, now: number, periodMs: number): Promise<void> {
  await db
    .deleteFrom('sign_in_failures')
    .where('first_at', '<=', now - periodMs)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .execute();
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('key', '=', key).execute();
}
