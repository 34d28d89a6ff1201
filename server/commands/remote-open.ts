import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit-log.js';
import type { ServerConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import type { CommandRow, Database } from '../store/schema.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { insertCommand, type CommandRequest } from './commands.js';

/** The limits count remote opens in any 60 seconds (a sliding window over the audit log). */
const REMOTE_OPEN_WINDOW_MS = 60_000;

interface RemoteOpenRefusal {
  /** Which limit: the asking principal's own, or the whole fleet's. */
  scope: 'operator' | 'fleet';
  limit: number;
  retryAfterSec: number;
}

/**
 * Whether one more open fits under `limit`, given the times of the most recent opens in the window (newest first,
 * at most `limit` of them). When it does not, the wait is until the `limit`-th most recent one leaves the window.
 */
function windowVerdict(recent: readonly number[], limit: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
  const edge = recent[limit - 1];
  if (recent.length < limit || edge === undefined) return { ok: true };
  return { ok: false, retryAfterMs: Math.max(1, edge + REMOTE_OPEN_WINDOW_MS - now) };
}

async function recentOpens(db: Kysely<Database>, now: number, limit: number, actor?: string): Promise<number[]> {
  let q = db
    .selectFrom('audit_log')
    .select('at')
    .where('action', '=', 'remote_open')
    .where('result', '=', 'created')
    .where('at', '>', now - REMOTE_OPEN_WINDOW_MS);
  if (actor !== undefined) q = q.where('actor', '=', actor);
  const rows = await q.orderBy('at', 'desc').limit(limit).execute();
  return rows.map((r) => Number(r.at));
}

/** The limit a new open by `actor` would break, or null. Counts only opens that were created. */
async function remoteOpenLimit(db: Kysely<Database>, config: ServerConfig, actor: string, now: number): Promise<RemoteOpenRefusal | null> {
  const checks = [
    { scope: 'operator' as const, limit: config.remoteOpenPerOperatorPerMinute, actor },
    { scope: 'fleet' as const, limit: config.remoteOpenFleetPerMinute, actor: undefined },
  ];
  for (const c of checks) {
    const verdict = windowVerdict(await recentOpens(db, now, c.limit, c.actor), c.limit, now);
    if (!verdict.ok) return { scope: c.scope, limit: c.limit, retryAfterSec: Math.ceil(verdict.retryAfterMs / 1000) };
  }
  return null;
}

/**
 * A remote open of one compartment: within the per-principal and fleet limits, audited whatever the outcome
 * (created, or refused with its code), and sent to the locker after the commit. The check, the command and its
 * audit entry are one transaction, so two requests at once cannot both take the last place under a limit
 * (SQLite runs one write transaction at a time; see docs/security.md for Postgres).
 */
export async function openRemotely(ctx: ServerContext, lockerId: string, req: CommandRequest, actor: string): Promise<CommandRow> {
  const now = ctx.clock.now();
  const about = { at: now, actor, action: 'remote_open' as const, lockerId, compartmentId: req.compartmentId, reason: req.reason };
  let outcome;
  try {
    // The command goes to the locker once this commits (queued by insertCommand).
    outcome = await inUnitOfWork(ctx, async (uow) => {
      const { trx } = uow;
      const refusal = await remoteOpenLimit(trx, ctx.config, actor, now);
      if (refusal) {
        await recordAudit(trx, { ...about, result: 'refused', code: 'REMOTE_OPEN_LIMITED', detail: { ...refusal } });
        return { refusal };
      }
      const created = await insertCommand(ctx, uow, lockerId, { ...req, type: 'open' }, actor, now);
      await recordAudit(trx, { ...about, result: 'created', commandId: created.id });
      return { created };
    });
  } catch (err) {
    // Refused inside the transaction (no such locker or compartment): nothing was written, so audit it now.
    if (err instanceof LockstepError) await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
    throw err;
  }
  if ('refusal' in outcome) {
    ctx.log.warn({ lockerId, compartmentId: req.compartmentId, actor, ...outcome.refusal }, 'remote open refused: limit');
    throw new LockstepError('REMOTE_OPEN_LIMITED', { ...outcome.refusal });
  }
  return outcome.created;
}
