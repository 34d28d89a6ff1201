import type { Kysely } from 'kysely';
import type { AuditAction, AuditResult } from '../../shared/api/audit.js';
import type { Database } from '../store/schema.js';

export interface AuditEntry {
  at: number;
  /** `role:id` of the principal (see principalRef), or SYSTEM_ACTOR. */
  actor: string;
  action: AuditAction;
  result: AuditResult;
  lockerId?: string | null;
  compartmentId?: string | null;
  reason?: string | null;
  code?: string | null;
  commandId?: string | null;
  subject?: string | null;
  detail?: Record<string, unknown>;
}

/** The actor of what the server does by itself (a key activated after its grace period, a key retired). */
export const SYSTEM_ACTOR = 'system';

/** Appends one entry, inside the caller's transaction when it passes one. The log is never updated or deleted. */
export async function recordAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: e.at,
      actor: e.actor,
      action: e.action,
      result: e.result,
      locker_id: e.lockerId ?? null,
      compartment_id: e.compartmentId ?? null,
      reason: e.reason ?? null,
      code: e.code ?? null,
      command_id: e.commandId ?? null,
      subject: e.subject ?? null,
      detail: e.detail ? JSON.stringify(e.detail) : null,
    })
    .execute();
}
