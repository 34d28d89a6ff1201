import type { AuditPage, AuditQuery, AuditView } from '../../shared/api/audit.js';
import type { Db } from '../store/database.js';
import { LockstepError } from '../errors.js';
import { decodeCursor, encodeCursor, querySignature } from '../http/page-cursor.js';

/** Entries per page when the query names no `limit`. */
export const AUDIT_DEFAULT_LIMIT = 200;

/** The id a cursor of the audit log points below (the cursor is bound to the filters it was made with). */
function auditCursorId(cursor: string, signature: string): number {
  const id = Number(decodeCursor(cursor, signature)?.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new LockstepError('CURSOR_INVALID');
  return id;
}

/** One page of the audit log, newest first: `limit` entries at most, and the cursor of the next page. */
export async function readAuditPage(db: Db, q: AuditQuery): Promise<AuditPage> {
  const limit = q.limit ? Number(q.limit) : AUDIT_DEFAULT_LIMIT;
  const signature = querySignature({ list: 'audit', action: q.action, actor: q.actor, lockerId: q.lockerId, before: q.before });
  let query = db
    .selectFrom('audit_log as a')
    .leftJoin('commands as c', 'c.id', 'a.command_id')
    .select(['a.id', 'a.at', 'a.actor', 'a.action', 'a.result', 'a.code', 'a.locker_id', 'a.compartment_id', 'a.reason', 'a.subject', 'a.command_id', 'a.detail'])
    .select(['c.state as command_state', 'c.result as command_result'])
    .orderBy('a.id', 'desc')
    // One more than asked: whether a next page exists, without a count.
    .limit(limit + 1);
  if (q.action) query = query.where('a.action', '=', q.action);
  if (q.actor) query = query.where('a.actor', '=', q.actor);
  if (q.lockerId) query = query.where('a.locker_id', '=', q.lockerId);
  if (q.before) query = query.where('a.id', '<', Number(q.before));
  if (q.cursor) query = query.where('a.id', '<', auditCursorId(q.cursor, signature));
  const rows = await query.execute();
  const items: AuditView[] = rows.slice(0, limit).map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    result: r.result,
    code: r.code,
    lockerId: r.locker_id,
    compartmentId: r.compartment_id,
    reason: r.reason,
    subject: r.subject,
    commandId: r.command_id,
    commandState: r.command_state,
    commandResult: r.command_result,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(signature, { v: last.id, id: String(last.id) }) : null };
}
