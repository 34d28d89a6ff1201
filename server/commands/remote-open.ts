import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/audit-log.js';
import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import type { CommandRow } from '../store/schema.js';
import type { RemoteOpenRequestRow } from '../store/schema-operations.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { insertCommand, type CommandRequest } from './commands.js';
import { allowanceUsed, occupiedFleetRefusal, openLimitRefusal, pendingRequestsRefusal, serialiseChecks, type LimitRefusal } from './remote-open-counts.js';
import { occupiedDecision, openTtlSec } from './remote-open-rules.js';
import { checkRemoteOpenBurst } from './remote-open-burst.js';

/** What a remote open led to: the command sent, or a request that waits for a second operator's approval. */
export type RemoteOpenOutcome = { kind: 'command'; command: CommandRow } | { kind: 'request'; request: RemoteOpenRequestRow };

type Decided = { refusal: LimitRefusal } | RemoteOpenOutcome;

/**
 * A remote open of one compartment (issue 17 for the limits): within the per-principal and fleet limits per
 * minute, the principal's cap on distinct lockers per hour and on opens queued for offline lockers. A compartment
 * that holds (or awaits) a parcel opens at once only within the principal's daily allowance and the fleet's hourly
 * cap; beyond the allowance the open waits as a request for another operator's approval (remote-open-approval.ts),
 * at most REMOTE_OPEN_PENDING_PER_OPERATOR of them per principal at once.
 * Audited whatever the outcome (created, pending or refused with its code); each attempt is counted for the burst
 * alarm. The checks, the command and its audit entry are one transaction, so two requests at once cannot both take
 * the last place under a limit (SQLite runs one write transaction at a time; on Postgres an advisory lock).
 */
export async function openRemotely(ctx: ServerContext, lockerId: string, req: CommandRequest, actor: string): Promise<RemoteOpenOutcome> {
  const now = ctx.clock.now();
  const { config } = ctx;
  const about = { at: now, actor, action: 'remote_open' as const, lockerId, compartmentId: req.compartmentId, reason: req.reason };
  let outcome: Decided;
  try {
    const ttlSec = openTtlSec(req.ttlSec, config.commandTtlSec, config.remoteOpenMaxTtlSec);
    if (ttlSec === null) throw new LockstepError('VALIDATION_FAILED', { path: '/ttlSec', problem: `a remote open waits at most ${config.remoteOpenMaxTtlSec} s (REMOTE_OPEN_MAX_TTL_SEC)` });
    // The command goes to the locker once this commits (queued by insertCommand).
    outcome = await inUnitOfWork(ctx, async (uow): Promise<Decided> => {
      const { trx } = uow;
      await serialiseChecks(trx, config);
      const target = await trx
        .selectFrom('compartments as c')
        .innerJoin('lockers as l', 'l.id', 'c.locker_id')
        .select(['c.parcel_id', 'l.online'])
        .where('c.locker_id', '=', lockerId)
        .where('c.id', '=', req.compartmentId)
        .executeTakeFirst();
      if (!target) {
        const locker = await trx.selectFrom('lockers').select('id').where('id', '=', lockerId).executeTakeFirst();
        throw new LockstepError(locker ? 'COMPARTMENT_NOT_FOUND' : 'LOCKER_NOT_FOUND', { lockerId, compartmentId: req.compartmentId });
      }
      const limited = await openLimitRefusal(trx, config, actor, lockerId, target.online === 1, now);
      if (limited) {
        await recordAudit(trx, { ...about, result: 'refused', code: limited.code, detail: { ...limited.details } });
        return { refusal: limited };
      }
      const occupied = target.parcel_id !== null;
      const decision = occupiedDecision(occupied, occupied ? await allowanceUsed(trx, actor, now) : 0, config.remoteOpenOccupiedDailyAllowance);
      if (decision === 'send') {
        const command = await insertCommand(ctx, uow, lockerId, { ...req, type: 'open', ttlSec }, actor, now);
        await recordAudit(trx, { ...about, result: 'created', commandId: command.id });
        return { kind: 'command', command };
      }
      if (decision === 'send_on_allowance') {
        const fleet = await occupiedFleetRefusal(trx, config, now);
        if (fleet) {
          await recordAudit(trx, { ...about, result: 'refused', code: fleet.code, detail: { ...fleet.details, parcelId: target.parcel_id } });
          return { refusal: fleet };
        }
      }
      const request: RemoteOpenRequestRow = {
        id: `ro_${randomUUID().replaceAll('-', '')}`,
        locker_id: lockerId,
        compartment_id: req.compartmentId,
        parcel_id: target.parcel_id,
        reason: req.reason,
        requested_by: actor,
        state: decision === 'send_on_allowance' ? 'sent_on_allowance' : 'pending_approval',
        ttl_sec: req.ttlSec ?? null,
        created_at: now,
        expires_at: now + config.remoteOpenApprovalTtlSec * 1000,
        approved_by: null,
        approved_at: null,
        sent_at: null,
        command_id: null,
      };
      if (decision === 'needs_approval') {
        const pending = await pendingRequestsRefusal(trx, config, actor, now);
        if (pending) {
          await recordAudit(trx, { ...about, result: 'refused', code: pending.code, detail: { ...pending.details, parcelId: target.parcel_id } });
          return { refusal: pending };
        }
        await trx.insertInto('remote_open_requests').values(request).execute();
        await recordAudit(trx, { ...about, result: 'pending', subject: request.id, detail: { parcelId: target.parcel_id, approvalRequired: true, expiresAt: request.expires_at } });
        return { kind: 'request', request };
      }
      const command = await insertCommand(ctx, uow, lockerId, { ...req, type: 'open', ttlSec }, actor, now);
      const sent = { ...request, sent_at: now, command_id: command.id };
      await trx.insertInto('remote_open_requests').values(sent).execute();
      await recordAudit(trx, { ...about, result: 'created', commandId: command.id, subject: request.id, detail: { parcelId: target.parcel_id, occupied: true, onAllowance: true } });
      return { kind: 'command', command };
    });
  } catch (err) {
    // Refused inside the transaction (no such locker or compartment, a ttl too long): nothing was written, so audit it now.
    if (err instanceof LockstepError) {
      await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
      if (err.code !== 'LOCKER_NOT_FOUND') await checkRemoteOpenBurst(ctx, actor, lockerId, req.compartmentId, now);
    }
    throw err;
  }
  await checkRemoteOpenBurst(ctx, actor, lockerId, req.compartmentId, now);
  if ('refusal' in outcome) {
    ctx.log.warn({ lockerId, compartmentId: req.compartmentId, actor, code: outcome.refusal.code, ...outcome.refusal.details }, 'remote open refused: limit');
    throw new LockstepError(outcome.refusal.code, { ...outcome.refusal.details });
  }
  if (outcome.kind === 'request') {
    ctx.log.info({ lockerId, compartmentId: req.compartmentId, actor, requestId: outcome.request.id }, 'remote open of an occupied compartment waits for approval');
  }
  return outcome;
}
