import type { Db } from '../store/database.js';
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type StoredKey } from './idempotency-rules.js';

/** One account's key. */
export interface KeyRef {
  account: string;
  key: string;
}

export interface StoredAnswer extends StoredKey {
  content_type: string | null;
  body: string | null;
}

/** Claims a free key for a request (one insert; the primary key makes two processes' claims exclusive). */
export async function claimKey(db: Db, ref: KeyRef, fingerprint: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('idempotency_keys')
    .values({
      account: ref.account,
      key: ref.key,
      fingerprint,
      state: 'in_flight',
      status: null,
      content_type: null,
      body: null,
      created_at: now,
      locked_until: now + IDEMPOTENCY_LOCK_MS,
      expires_at: now + IDEMPOTENCY_TTL_MS,
    })
    .onConflict((oc) => oc.columns(['account', 'key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function readKey(db: Db, ref: KeyRef): Promise<StoredAnswer | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'state', 'status', 'locked_until', 'expires_at', 'content_type', 'body'])
    .where('account', '=', ref.account)
    .where('key', '=', ref.key)
    .executeTakeFirst();
  return row && { ...row, locked_until: Number(row.locked_until), expires_at: Number(row.expires_at) };
}

/** Deletes the key if it expired (so it can be claimed afresh). */
export async function dropExpiredKey(db: Db, ref: KeyRef, now: number): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('account', '=', ref.account).where('key', '=', ref.key).where('expires_at', '<=', now).execute();
}

/** Takes over an abandoned in-flight claim; false when another request took it first. */
export async function takeOverKey(db: Db, ref: KeyRef, lockedUntil: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ locked_until: now + IDEMPOTENCY_LOCK_MS })
    .where('account', '=', ref.account)
    .where('key', '=', ref.key)
    .where('state', '=', 'in_flight')
    .where('locked_until', '=', lockedUntil)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores the first answer; replays send it from now on. */
export async function storeAnswer(db: Db, ref: KeyRef, answer: { status: number; contentType: string | null; body: string }): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ state: 'done', status: answer.status, content_type: answer.contentType, body: answer.body })
    .where('account', '=', ref.account)
    .where('key', '=', ref.key)
    .where('state', '=', 'in_flight')
    .execute();
}

/** Gives an in-flight claim up (the answer said "nothing was done"): a retry with the key runs again. */
export async function releaseKey(db: Db, ref: KeyRef): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('account', '=', ref.account).where('key', '=', ref.key).where('state', '=', 'in_flight').execute();
}

/** Forgets keys past their 24 h (the scheduler's job); returns how many. */
export async function purgeIdempotencyKeys(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
