import { randomUUID } from 'node:crypto';
import { encode } from '../../shared/codec.js';
import type { CommandMessage, CommandType } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import type { CommandRow } from '../store/schema.js';
import type { UnitOfWork } from '../desired-state/unit-of-work.js';
import { expireRemoteOpenRequests } from './remote-open-expiry.js';

export interface CommandRequest {
  type: CommandType;
  compartmentId: string;
  inService?: boolean;
  reason: string;
  /** How long the command may wait for the locker; never run after. */
  ttlSec?: number;
}

/*
 * An operator's command is stored (with who asked and why) and sent to the locker. Taking a compartment out of
 * service also takes effect at once on the server (no new bookings) and goes into the desired state. Remote opens
 * go through `openRemotely` (remote-open.ts) and set_service through `setServiceLimited` (set-service.ts), which
 * add the limits and the audit trail around `insertCommand`.
 */

/**
 * The command row (and, for set_service, the desired-state change), inside the caller's unit of work. After the
 * commit the service change, then the command, go to the locker; a command the locker misses is sent again when it
 * reconnects, a change with its next snapshot.
 */
export async function insertCommand(ctx: ServerContext, uow: UnitOfWork, lockerId: string, req: CommandRequest, requestedBy: string, now: number): Promise<CommandRow> {
  const { trx } = uow;
  const id = `c_${randomUUID().replaceAll('-', '')}`;
  const compartment = await trx.selectFrom('compartments').select('id').where('locker_id', '=', lockerId).where('id', '=', req.compartmentId).executeTakeFirst();
  if (!compartment) {
    const locker = await trx.selectFrom('lockers').select('id').where('id', '=', lockerId).executeTakeFirst();
    throw new LockstepError(locker ? 'COMPARTMENT_NOT_FOUND' : 'LOCKER_NOT_FOUND', { lockerId, compartmentId: req.compartmentId });
  }
  const row: CommandRow = {
    id,
    locker_id: lockerId,
    type: req.type,
    compartment_id: req.compartmentId,
    in_service: req.type === 'set_service' ? (req.inService ? 1 : 0) : null,
    reason: req.reason,
    requested_by: requestedBy,
    state: 'pending',
    result: null,
    created_at: now,
    expires_at: now + (req.ttlSec ?? ctx.config.commandTtlSec) * 1000,
    updated_at: now,
  };
  await trx.insertInto('commands').values(row).execute();
  if (req.type === 'set_service') {
    const inService = req.inService ?? false;
    await trx.updateTable('compartments').set({ in_service: inService ? 1 : 0 }).where('locker_id', '=', lockerId).where('id', '=', req.compartmentId).execute();
    await uow.changeDesiredState(lockerId, [{ op: 'compartment.service', id: req.compartmentId, inService }], now);
  }
  uow.afterCommit(
    'command not published; it is sent again when the locker reconnects',
    async () => {
      await publishCommand(ctx, row);
      ctx.bus.domain({ type: 'command.sent', commandId: row.id, lockerId: row.locker_id, commandType: row.type, compartmentId: row.compartment_id, requestedBy: row.requested_by });
    },
    lockerId,
  );
  return row;
}

function toMessage(row: CommandRow, serverTime: number): CommandMessage {
  return {
    v: PROTOCOL_VERSION,
    id: row.id,
    type: row.type,
    compartmentId: row.compartment_id,
    ...(row.in_service === null ? {} : { inService: row.in_service === 1 }),
    issuedAt: row.created_at,
    expiresAt: row.expires_at,
    serverTime,
  };
}

async function publishCommand(ctx: ServerContext, row: CommandRow): Promise<void> {
  await ctx.link.publish(topics.commands(row.locker_id), encode(toMessage(row, ctx.clock.now())), { qos: 1 });
}

/** Sends every command of a locker still waiting for its result (after the locker connects again). */
export async function resendPending(ctx: ServerContext, lockerId: string): Promise<number> {
  const now = ctx.clock.now();
  const rows = await ctx.db
    .selectFrom('commands')
    .selectAll()
    .where('locker_id', '=', lockerId)
    .where('state', '=', 'pending')
    .where('expires_at', '>', now)
    .orderBy('created_at')
    .execute();
  for (const row of rows) await publishCommand(ctx, row);
  return rows.length;
}

/**
 * Marks commands whose time ran out without a result as expired. A locker refuses an expired command itself;
 * the slack covers its clock tolerance, so a result it sends in time is never overwritten. Requests to open an
 * occupied compartment that nobody approved in time expire too.
 */
export async function expireCommands(ctx: ServerContext): Promise<number> {
  await expireRemoteOpenRequests(ctx);
  const now = ctx.clock.now();
  const r = await ctx.db
    .updateTable('commands')
    .set({ state: 'expired', result: 'NO_RESULT_BEFORE_EXPIRY', updated_at: now })
    .where('state', '=', 'pending')
    .where('expires_at', '<', now - ctx.config.clockToleranceSec * 1000)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export function commandView(row: CommandRow) {
  return {
    id: row.id,
    lockerId: row.locker_id,
    type: row.type,
    compartmentId: row.compartment_id,
    inService: row.in_service === null ? null : row.in_service === 1,
    reason: row.reason,
    requestedBy: row.requested_by,
    state: row.state,
    result: row.result,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    updatedAt: row.updated_at,
  };
}
