import { randomUUID } from 'node:crypto';
import type { DiagnosticsView } from '../../shared/api/firmware.js';
import { encode } from '../../shared/codec.js';
import type { DiagnosticsCommandMessage, DiagnosticsResult } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { recordAudit } from '../audit/audit-log.js';
import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import { DeviceLinks } from '../firmware/device-links.js';
import type { DiagnosticsRequestRow } from '../store/schema-firmware.js';

export interface DiagnosticsAsk {
  reason: string;
  logLines?: number;
  ttlSec?: number;
}

const DEFAULT_LOG_LINES = 200;

/**
 * An operator asks a locker for its diagnostics (recent agent log, outbox depth, doors and faults, telemetry): the
 * request is stored and audited (`diagnostics`, like a remote open: who, which locker, why; refused ones too), the
 * command goes out after the commit, again while the locker has not answered, until it expires.
 */
export async function requestDiagnostics(ctx: ServerContext, lockerId: string, ask: DiagnosticsAsk, actor: string): Promise<DiagnosticsRequestRow> {
  const now = ctx.clock.now();
  const about = { at: now, actor, action: 'diagnostics' as const, lockerId, reason: ask.reason };
  const row: DiagnosticsRequestRow = {
    id: `dg_${randomUUID().replaceAll('-', '')}`,
    locker_id: lockerId,
    state: 'pending',
    reason: ask.reason,
    requested_by: actor,
    log_lines: ask.logLines ?? DEFAULT_LOG_LINES,
    created_at: now,
    expires_at: now + (ask.ttlSec ?? ctx.config.commandTtlSec) * 1000,
    last_sent_at: now,
    completed_at: null,
    result: null,
  };
  const locker = await ctx.db.selectFrom('lockers').select('id').where('id', '=', lockerId).executeTakeFirst();
  if (!locker) {
    await recordAudit(ctx.db, { ...about, result: 'refused', code: 'LOCKER_NOT_FOUND' });
    throw new LockstepError('LOCKER_NOT_FOUND', { lockerId });
  }
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('diagnostics_requests').values(row).execute();
    await recordAudit(trx, { ...about, result: 'created', subject: row.id, detail: { logLines: row.log_lines, expiresAt: row.expires_at } });
  });
  ctx.log.info({ lockerId, requestId: row.id, actor }, 'diagnostics requested');
  await publishDiagnostics(ctx, row);
  return row;
}

async function publishDiagnostics(ctx: ServerContext, row: DiagnosticsRequestRow): Promise<void> {
  const links = new DeviceLinks(ctx.pinSecret);
  const msg: DiagnosticsCommandMessage = {
    v: PROTOCOL_VERSION,
    id: row.id,
    type: 'diagnostics',
    logLines: row.log_lines,
    report: `/v1/device/diagnostics/${row.id}?${links.query('diagnostics', row.locker_id, row.id, row.expires_at)}`,
    issuedAt: row.created_at,
    expiresAt: row.expires_at,
    serverTime: ctx.clock.now(),
  };
  try {
    await ctx.link.publish(topics.commands(row.locker_id), encode(msg), { qos: 1 });
  } catch (err) {
    ctx.log.warn({ err, requestId: row.id }, 'diagnostics request not published; sent again later');
  }
}

/** The locker's answer (through its link): stored once; a second answer to the same request changes nothing. */
export async function storeDiagnostics(ctx: ServerContext, requestId: string, lockerId: string, result: DiagnosticsResult): Promise<boolean> {
  const r = await ctx.db
    .updateTable('diagnostics_requests')
    .set({ state: 'completed', completed_at: ctx.clock.now(), result: JSON.stringify(result) })
    .where('id', '=', requestId)
    .where('locker_id', '=', lockerId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Scheduler job: pending requests past their expiry expire; the others go again to lockers online that have not answered. */
export async function runDiagnosticsRequests(ctx: ServerContext): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.updateTable('diagnostics_requests').set({ state: 'expired' }).where('state', '=', 'pending').where('expires_at', '<', now).execute();
  const due = await ctx.db
    .selectFrom('diagnostics_requests as d')
    .innerJoin('lockers as l', 'l.id', 'd.locker_id')
    .selectAll('d')
    .where('d.state', '=', 'pending')
    .where('d.last_sent_at', '<', now - ctx.config.firmwareResendSec * 1000)
    .where('l.online', '=', 1)
    .limit(200)
    .execute();
  for (const row of due) {
    await ctx.db.updateTable('diagnostics_requests').set({ last_sent_at: now }).where('id', '=', row.id).execute();
    await publishDiagnostics(ctx, row);
  }
}

export function diagnosticsView(r: DiagnosticsRequestRow): DiagnosticsView {
  return {
    requestId: r.id,
    lockerId: r.locker_id,
    state: r.state,
    reason: r.reason,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    completedAt: r.completed_at,
    result: r.result ? (JSON.parse(r.result) as DiagnosticsResult) : null,
  };
}
