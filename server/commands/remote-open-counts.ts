import { sql, type Kysely } from 'kysely';
import type { ServerConfig } from '../config-schema.js';
import type { ErrorCode } from '../errors.js';
import type { Database } from '../store/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, distinctLockersVerdict, queueVerdict, windowVerdict, type WindowVerdict } from './remote-open-rules.js';

/** Thin SQL shells: what the rules in remote-open-rules.ts decide on. Times are the injected clock's. */

/** A limit an open or set_service would break: its catalogue code and what the client is told. */
export interface LimitRefusal {
  code: ErrorCode;
  details: { scope: string; limit: number; retryAfterSec?: number };
}

const refusal = (code: ErrorCode, scope: string, limit: number, v?: WindowVerdict): LimitRefusal => ({
  code,
  details: { scope, limit, ...(v && !v.ok ? { retryAfterSec: Math.ceil(v.retryAfterMs / 1000) } : {}) },
});

/** Key of the Postgres advisory lock that serialises the remote-open and set_service checks ("LSRO"). */
const REMOTE_OPEN_LOCK = 0x4c53524f;

/**
 * The checks and the insert that follows them must not interleave with another request's, or two could both take
 * the last place under a cap. SQLite runs one write transaction at a time; on Postgres (several processes) this
 * takes a transaction-scoped advisory lock first.
 */
export async function serialiseChecks(trx: Kysely<Database>, config: ServerConfig): Promise<void> {
  if (config.databaseUrl !== undefined) await sql`select pg_advisory_xact_lock(${sql.lit(REMOTE_OPEN_LOCK)})`.execute(trx);
}

/** Creation times of the newest commands of a type in the last minute (of one principal, or of all), newest first. */
async function recentCommands(db: Kysely<Database>, type: 'open' | 'set_service', now: number, limit: number, actor?: string): Promise<number[]> {
  let q = db.selectFrom('commands').select('created_at').where('type', '=', type).where('created_at', '>', now - MINUTE_MS);
  if (actor !== undefined) q = q.where('requested_by', '=', actor);
  const rows = await q.orderBy('created_at', 'desc').limit(limit).execute();
  return rows.map((r) => Number(r.created_at));
}

/** The per-principal and fleet limits per minute of a command type (opens and set_service each have their own). */
export async function perMinuteRefusal(db: Kysely<Database>, type: 'open' | 'set_service', limits: { operator: number; fleet: number }, actor: string, now: number): Promise<LimitRefusal | null> {
  const code = type === 'open' ? 'REMOTE_OPEN_LIMITED' : 'SET_SERVICE_LIMITED';
  for (const c of [
    { scope: 'operator', limit: limits.operator, actor },
    { scope: 'fleet', limit: limits.fleet, actor: undefined },
  ]) {
    const v = windowVerdict(await recentCommands(db, type, now, c.limit, c.actor), c.limit, now);
    if (!v.ok) return refusal(code, c.scope, c.limit, v);
  }
  return null;
}

/** The lockers a principal sent opens to in the last hour, each with its latest open. */
async function lockersOpenedBy(db: Kysely<Database>, actor: string, now: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('commands')
    .select(['locker_id'])
    .select((eb) => eb.fn.max('created_at').as('last'))
    .where('requested_by', '=', actor)
    .where('type', '=', 'open')
    .where('created_at', '>', now - HOUR_MS)
    .groupBy('locker_id')
    .execute();
  return new Map(rows.map((r) => [r.locker_id, Number(r.last)]));
}

/** Opens of a principal still waiting for lockers that are offline. */
async function queuedForOffline(db: Kysely<Database>, actor: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('commands as c')
    .innerJoin('lockers as l', 'l.id', 'c.locker_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('c.requested_by', '=', actor)
    .where('c.type', '=', 'open')
    .where('c.state', '=', 'pending')
    .where('c.expires_at', '>', now)
    .where('l.online', '=', 0)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * The first limit an open by `actor` (its own request, or one a second operator approves on its behalf) to a
 * compartment of `lockerId` would break: per minute (principal, fleet), distinct lockers per hour, queue for offline lockers.
 */
export async function openLimitRefusal(db: Kysely<Database>, config: ServerConfig, actor: string, lockerId: string, lockerOnline: boolean, now: number): Promise<LimitRefusal | null> {
  const perMinute = await perMinuteRefusal(db, 'open', { operator: config.remoteOpenPerOperatorPerMinute, fleet: config.remoteOpenFleetPerMinute }, actor, now);
  if (perMinute) return perMinute;
  const lockersLimit = config.remoteOpenLockersPerOperatorPerHour;
  const spread = distinctLockersVerdict(await lockersOpenedBy(db, actor, now), lockerId, lockersLimit, now);
  if (!spread.ok) return refusal('REMOTE_OPEN_LOCKERS_LIMITED', 'operator_lockers', lockersLimit, spread);
  const queueLimit = config.remoteOpenQueuedPerOperator;
  if (!queueVerdict(lockerOnline, lockerOnline ? 0 : await queuedForOffline(db, actor, now), queueLimit)) {
    return refusal('REMOTE_OPEN_QUEUE_FULL', 'operator_queued', queueLimit);
  }
  return null;
}

/** Opens of occupied compartments a principal sent on its allowance in the last 24 h. */
export async function allowanceUsed(db: Kysely<Database>, actor: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('remote_open_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('requested_by', '=', actor)
    .where('state', '=', 'sent_on_allowance')
    .where('created_at', '>', now - DAY_MS)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * A principal's cap on requests waiting for another operator's approval (not approved, not expired): each one is
 * work for the approvers, and a stolen token must not bury the real ones among hundreds (docs/security.md).
 */
export async function pendingRequestsRefusal(db: Kysely<Database>, config: ServerConfig, actor: string, now: number): Promise<LimitRefusal | null> {
  const limit = config.remoteOpenPendingPerOperator;
  const row = await db
    .selectFrom('remote_open_requests')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('expires_at').as('first_expiry')])
    .where('requested_by', '=', actor)
    .where('state', '=', 'pending_approval')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(row?.n ?? 0) < limit) return null;
  // A place frees when the oldest request expires (or sooner, if one is approved).
  return refusal('REMOTE_OPEN_PENDING_FULL', 'operator_pending', limit, { ok: false, retryAfterMs: Math.max(1, Number(row?.first_expiry ?? now) - now) });
}

/** The fleet's cap on opens of occupied compartments (on allowance or approved) in any hour. */
export async function occupiedFleetRefusal(db: Kysely<Database>, config: ServerConfig, now: number): Promise<LimitRefusal | null> {
  const limit = config.remoteOpenOccupiedFleetPerHour;
  const rows = await db.selectFrom('remote_open_requests').select('sent_at').where('sent_at', '>', now - HOUR_MS).orderBy('sent_at', 'desc').limit(limit).execute();
  const v = windowVerdict(
    rows.map((r) => Number(r.sent_at)),
    limit,
    now,
    HOUR_MS,
  );
  return v.ok ? null : refusal('REMOTE_OPEN_OCCUPIED_LIMITED', 'fleet_occupied', limit, v);
}

/** Remote-open attempts (every audited call: created, pending or refused) in the burst window, of one principal and of all. */
export async function attemptsInWindow(db: Kysely<Database>, actor: string, since: number): Promise<{ operator: number; fleet: number }> {
  const count = async (who?: string) => {
    let q = db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'remote_open').where('at', '>', since);
    if (who !== undefined) q = q.where('actor', '=', who);
    return Number((await q.executeTakeFirst())?.n ?? 0);
  };
  return { operator: await count(actor), fleet: await count() };
}
