import { PostgresAdapter, sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Postgres: takes the row locks of the lockers `ids` in id order (byte order, as `compareIds` sorts every group),
 * before a statement that updates many lockers at once: such an update locks rows in whatever order the planner
 * scans them, and two processes' groups deadlocked on it. SQLite has a single writer: nothing to do.
 */
export async function lockLockersInOrder(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length >= 2) await lockLockersFirst(trx, ids);
}

/**
 * Postgres: takes the row locks of the lockers `ids` in id order before anything else of theirs, even for one
 * locker (a booking group: every writer takes a locker's row before its compartments'). SQLite: nothing to do.
 */
export async function lockLockersFirst(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0 || !(trx.getExecutor().adapter instanceof PostgresAdapter)) return;
  await lockersInIdOrder(ids).execute(trx);
}

/** Postgres: the query that locks the lockers `ids` in id order and returns their ids (also a CTE, event-group-pg.ts). */
export function lockersInIdOrder(ids: readonly string[]): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`select id from lockers where id = any(${ids}::text[]) order by id collate "C" for no key update`;
}
