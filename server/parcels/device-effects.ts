import { randomUUID } from 'node:crypto';
import type { DeviceEvent } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import type { ParcelRow } from '../store/schema.js';
import { raiseAlarmInUnit } from '../alarms/raise-alarm.js';
import { applyBoardAlarm } from '../alarms/hardware-alarms.js';
import { issueGrant } from '../codes/grant-issuer.js';
import type { UnitOfWork } from '../desired-state/unit-of-work.js';
import {
  alarmOf,
  commandOutcome,
  compartmentOutOfService,
  decideCompartmentMove,
  decideParcelMove,
  grantUseKind,
  grantUseVerdict,
  parcelMoveOf,
  refusedMove,
  moveToUnknown,
  type HistoryDraft,
  type ParcelFacts,
  type ParcelMove,
  boardAlarm,
  grantFreedBy,
  HARDWARE_FAULT_ALARM,
} from './device-effect-rules.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { takeCompartment } from './compartment-conflict.js';

/** Where an event is applied: inside the transaction that records it, with work to do after the commit. */
export interface EffectScope {
  ctx: ServerContext;
  /** The batch's unit of work: its transaction, and what to publish to the locker after the commit. */
  uow: UnitOfWork;
  lockerId: string;
}

/**
 * What a device event changes in the domain. Called once per `(lockerId, seq)`. Events may arrive in any
 * order; each effect loads the state it finds, asks the rules (device-effect-rules.ts) and stores their decision.
 */
export async function applyDeviceEvent(s: EffectScope, event: DeviceEvent): Promise<void> {
  const ref = `${s.lockerId}#${event.seq}`;
  const alarm = alarmOf(event);
  if (alarm) {
    await raiseAlarmInUnit(s.uow, { lockerId: s.lockerId, compartmentId: event.compartmentId ?? null, parcelId: event.parcelId ?? null, kind: alarm.kind, at: event.at, detail: alarm.detail });
  }
  // lock boards (issue 15): a board's `hardware_fault` alarm, raised and resolved per board
  const board = boardAlarm(event);
  if (board) await applyBoardAlarm(s.uow.trx, { lockerId: s.lockerId, kind: HARDWARE_FAULT_ALARM, at: event.at, ...board });
  const freed = grantFreedBy(event);
  if (freed) {
    await s.uow.trx
      .updateTable('grants')
      .set((eb) => ({ status: 'live', used_at: null, uses: eb('uses', '-', 1) }))
      .where('jti', '=', freed)
      .where('locker_id', '=', s.lockerId)
      .where('status', '=', 'used')
      .where('action', '!=', 'deposit_batch')
      .execute();
  }
  const jammed = compartmentOutOfService(event);
  if (jammed) await s.uow.trx.updateTable('compartments').set({ in_service: 0 }).where('locker_id', '=', s.lockerId).where('id', '=', jammed).execute();
  switch (event.type) {
    case 'code.accepted':
      return recordGrantUse(s, event, ref);
    case 'parcel.deposited':
    case 'parcel.picked_up': {
      const move = parcelMoveOf(event, event.type === 'parcel.picked_up' ? await grantAction(s, event) : undefined);
      return move ? moveParcel(s, event, ref, move) : undefined;
    }
    case 'parcel.moved':
      return followMove(s, event, ref);
    case 'command.succeeded':
    case 'command.failed':
    case 'command.expired':
      return finishCommand(s, event);
    default:
      return;
  }
}

async function grantAction(s: EffectScope, event: DeviceEvent): Promise<string | undefined> {
  if (!event.jti) return undefined;
  const g = await s.uow.trx.selectFrom('grants').select('action').where('jti', '=', event.jti).where('locker_id', '=', s.lockerId).executeTakeFirst();
  return g?.action;
}

async function recordGrantUse(s: EffectScope, event: DeviceEvent, ref: string): Promise<void> {
  const kind = grantUseKind(event);
  if (!kind || !event.jti) return;
  if (kind === 'batch') {
    await s.uow.trx
      .updateTable('grants')
      .set((eb) => ({ used_at: event.at, uses: eb('uses', '+', 1) }))
      .where('jti', '=', event.jti)
      .where('locker_id', '=', s.lockerId)
      .where('action', '=', 'deposit_batch')
      .execute();
    return;
  }
  const grant = await s.uow.trx
    .updateTable('grants')
    .set((eb) => ({ status: 'used', used_at: event.at, uses: eb('uses', '+', 1) }))
    .where('jti', '=', event.jti)
    .where('locker_id', '=', s.lockerId)
    .returning(['uses', 'parcel_id', 'status'])
    .executeTakeFirst();
  const verdict = grantUseVerdict(grant);
  if (verdict === 'unknown') {
    s.ctx.stats.eventsAnomalous++;
    s.ctx.log.warn({ lockerId: s.lockerId, seq: event.seq }, 'device accepted a grant the server does not know');
    return;
  }
  if (verdict === 'reused' && grant) {
    s.ctx.stats.grantReuse++;
    s.ctx.log.warn({ lockerId: s.lockerId, seq: event.seq, jti: event.jti }, 'grant reported used more than once');
    const parcel = await s.uow.trx.selectFrom('parcels').select('status').where('id', '=', grant.parcel_id).executeTakeFirst();
    if (parcel) await addHistory(s, grant.parcel_id, event.at, ref, { type: 'grant.reused', status: parcel.status, detail: { jti: event.jti } });
    await raiseAlarmInUnit(s.uow, { lockerId: s.lockerId, parcelId: grant.parcel_id, kind: 'grant_reused', at: event.at, detail: { jti: event.jti } });
  }
}

const factsOf = (p: ParcelRow): ParcelFacts => ({ id: p.id, status: p.status, compartmentId: p.compartment_id });

async function loadParcel(s: EffectScope, event: DeviceEvent): Promise<ParcelRow | undefined> {
  if (!event.parcelId) return undefined;
  return s.uow.trx.selectFrom('parcels').selectAll().where('id', '=', event.parcelId).where('locker_id', '=', s.lockerId).executeTakeFirst();
}

async function moveParcel(s: EffectScope, event: DeviceEvent, ref: string, move: ParcelMove): Promise<void> {
  const { ctx, lockerId } = s;
  const { trx } = s.uow;
  const parcel = await loadParcel(s, event);
  const d = decideParcelMove(parcel && factsOf(parcel), event, move);
  if (d.kind === 'anomalous' || !parcel) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq, type: event.type }, 'event for a parcel this locker does not hold');
    return;
  }
  const now = ctx.clock.now();
  if (d.inferredDeposit) {
    await trx.updateTable('parcels').set({ deposited_at: event.at }).where('id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, ref, d.inferredDeposit);
  }
  if (d.kind === 'ignored') {
    await addHistory(s, parcel.id, event.at, ref, d.history);
    return;
  }
  if (d.reconcile) {
    await trx.updateTable('parcels').set({ release_version: null }).where('id', '=', parcel.id).execute();
    await raiseAlarmInUnit(s.uow, { lockerId, compartmentId: parcel.compartment_id, parcelId: parcel.id, kind: 'revoked_grant_used', at: event.at, detail: { seq: event.seq, type: event.type } });
    await takeCompartment(s, parcel, parcel.compartment_id, event.at, ref, { seq: event.seq, reconciled: true });
  }
  if (d.compartment === 'in') {
    await trx.updateTable('parcels').set({ status: d.next, deposited_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, ref, d.history);
    if (d.reconcile) await reissuePickupGrant(s, parcel);
    await issuePickupNotification(s, parcel, now);
  } else {
    await trx.updateTable('parcels').set({ status: d.next, picked_up_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('parcel_id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, ref, d.history);
  }
  await enqueueParcelEvent(trx, parcel, d.webhook, event.at, d.detail);
}

/**
 * The locker put the parcel into another compartment: the parcel names the new one, which takes it, and any other
 * compartment lets go of it, in this transaction. A new compartment the server had promised to a parcel still only
 * booked re-books that one elsewhere; otherwise the alarm `compartment_conflict` (compartment-conflict.ts). The
 * parcel's codes stay the same: the locker opens the compartment where it put the parcel for a code naming the old
 * one (see docs/protocol.md, "Moved parcels").
 */
async function followMove(s: EffectScope, event: DeviceEvent, ref: string): Promise<void> {
  const { ctx, lockerId } = s;
  const { trx } = s.uow;
  const parcel = await loadParcel(s, event);
  const move = decideCompartmentMove(parcel && factsOf(parcel), event);
  if (!parcel || !move) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq }, 'parcel.moved for a parcel this locker does not hold');
    return;
  }
  const { from, to, detail } = move;
  const known = await trx.selectFrom('compartments').select('id').where('locker_id', '=', lockerId).where('id', '=', to).executeTakeFirst();
  if (!known) {
    ctx.stats.eventsAnomalous++;
    await addHistory(s, parcel.id, event.at, ref, moveToUnknown(factsOf(parcel), move));
    return;
  }
  const moved = await trx
    .updateTable('parcels')
    .set({ compartment_id: to, updated_at: ctx.clock.now() })
    .where('id', '=', parcel.id)
    .where('compartment_id', '=', from)
    .executeTakeFirst();
  if (moved.numUpdatedRows === 0n) {
    const refused = refusedMove(factsOf(parcel), move);
    if (refused) {
      ctx.stats.eventsAnomalous++;
      await addHistory(s, parcel.id, event.at, ref, refused);
    }
    return;
  }
  await takeCompartment(s, parcel, to, event.at, ref, { seq: event.seq, ...detail });
  await addHistory(s, parcel.id, event.at, ref, { type: 'moved', status: parcel.status, detail });
}

/** The cancelled parcel's pickup grant was revoked; the recipient gets a new one. */
async function reissuePickupGrant(s: EffectScope, parcel: ParcelRow): Promise<void> {
  const now = s.ctx.clock.now();
  const pickup = await issueGrant(s.ctx, s.uow.trx, {
    lockerId: s.lockerId,
    parcelId: parcel.id,
    compartmentId: parcel.compartment_id,
    action: 'pickup',
    notBefore: now,
    expiresAt: now + s.ctx.config.pickupWindowSec * 1000,
  });
  await s.uow.changeDesiredState(s.lockerId, [{ op: 'grant.add', token: pickup.row.token }], now);
}

/** The recipient's pickup code, released now that the server knows the parcel is in. */
async function issuePickupNotification(s: EffectScope, parcel: ParcelRow, now: number): Promise<void> {
  const grant = await s.uow.trx
    .selectFrom('grants')
    .select('jti')
    .where('parcel_id', '=', parcel.id)
    .where('action', '=', 'pickup')
    .where('status', '=', 'live')
    .orderBy('exp', 'desc')
    .executeTakeFirst();
  if (!grant) return;
  await s.uow.trx
    .insertInto('notifications')
    .values({
      id: `n_${randomUUID().replaceAll('-', '')}`,
      parcel_id: parcel.id,
      kind: 'pickup_code',
      recipient: parcel.recipient,
      grant_jti: grant.jti,
      created_at: now,
    })
    .execute();
}

/** The device's word on a command is final (commandOutcome). */
async function finishCommand(s: EffectScope, event: DeviceEvent): Promise<void> {
  const outcome = commandOutcome(event);
  if (!outcome) return;
  await s.uow.trx
    .updateTable('commands')
    .set({ state: outcome.state, result: outcome.result, updated_at: s.ctx.clock.now() })
    .where('id', '=', outcome.commandId)
    .where('locker_id', '=', s.lockerId)
    .execute();
  s.uow.announce({ type: 'command.done', commandId: outcome.commandId, lockerId: s.lockerId, state: outcome.state, result: outcome.result });
}

function addHistory(s: EffectScope, parcelId: string, at: number, sourceRef: string, h: HistoryDraft): Promise<void> {
  return s.uow.addHistory({ parcelId, at, type: h.type, status: h.status, source: 'device', sourceRef, detail: h.detail });
}
