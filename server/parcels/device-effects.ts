import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DeviceEvent } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import type { Database, ParcelRow, ParcelStatus } from '../store/schema.js';
import { raiseAlarm } from '../alarms/raise-alarm.js';
import { issueGrant } from '../codes/grant-issuer.js';
import type { UnitOfWork } from '../desired-state/unit-of-work.js';
import { nextStatus, type ParcelTrigger } from './lifecycle.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';

/** Where an event is applied: inside the transaction that records it, with work to do after the commit. */
export interface EffectScope {
  ctx: ServerContext;
  /** The batch's unit of work: its transaction, and what to publish to the locker after the commit. */
  uow: UnitOfWork;
  trx: Transaction<Database>;
  lockerId: string;
}

/** Device events that are alarms for the operator, and the alarm kind each raises. */
const ALARM_EVENTS: Partial<Record<DeviceEvent['type'], string>> = {
  'lock.jammed': 'lock_jam',
  'door.forced_open': 'forced_open',
  'door.left_open': 'door_left_open',
  'session.aborted': 'session_aborted',
  'keypad.locked': 'repeated_wrong_codes',
};

/** Event types `applyDeviceEvent` acts on (besides alarms); the rest (doors opened and closed, wrong codes) are only recorded. */
const EFFECT_TYPES = new Set<DeviceEvent['type']>(['code.accepted', 'parcel.deposited', 'parcel.moved', 'parcel.picked_up', 'command.succeeded', 'command.failed', 'command.expired']);

/** False for events that only need recording: most of a locker's day, so the hot path skips the call. */
export function hasDomainEffect(event: DeviceEvent): boolean {
  return EFFECT_TYPES.has(event.type) || event.reason === 'DOOR_CYCLE_ASSUMED' || ALARM_EVENTS[event.type] !== undefined;
}

/**
 * What a device event changes in the domain. Called once per `(lockerId, seq)`. Events may arrive in any
 * order; each effect checks the state it finds.
 */
export async function applyDeviceEvent(s: EffectScope, event: DeviceEvent): Promise<void> {
  const ref = `${s.lockerId}#${event.seq}`;
  const alarm = event.reason === 'DOOR_CYCLE_ASSUMED' ? 'door_cycle_assumed' : ALARM_EVENTS[event.type];
  if (alarm) {
    await raiseAlarm(s.trx, {
      lockerId: s.lockerId,
      compartmentId: event.compartmentId ?? null,
      parcelId: event.parcelId ?? null,
      kind: alarm,
      at: event.at,
      detail: { seq: event.seq, ...(event.reason ? { reason: event.reason } : {}) },
    });
  }
  if (event.type === 'lock.jammed' && event.compartmentId) {
    // No new bookings into a compartment whose lock does not release (the locker refuses it anyway).
    await s.trx.updateTable('compartments').set({ in_service: 0 }).where('locker_id', '=', s.lockerId).where('id', '=', event.compartmentId).execute();
  }
  switch (event.type) {
    case 'code.accepted':
      return recordGrantUse(s, event, ref);
    case 'parcel.deposited':
      return moveParcel(s, event, ref, 'deposit');
    case 'parcel.moved':
      return followMove(s, event, ref);
    case 'parcel.picked_up':
      // Taken out with the carrier's collection code, the parcel goes back to the sender.
      return moveParcel(s, event, ref, (await grantAction(s, event)) === 'collect' ? 'collect' : 'pickup');
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
  const g = await s.trx.selectFrom('grants').select('action').where('jti', '=', event.jti).where('locker_id', '=', s.lockerId).executeTakeFirst();
  return g?.action;
}

async function recordGrantUse(s: EffectScope, event: DeviceEvent, ref: string): Promise<void> {
  if (!event.jti) return;
  if (event.action === 'deposit_batch') {
    // A batch code is entered once per parcel: each use is counted, and it stays live (in snapshots) until it
    // expires, so the locker keeps it for the parcels still to come. The locker opens each parcel's door once.
    await s.trx
      .updateTable('grants')
      .set((eb) => ({ used_at: event.at, uses: eb('uses', '+', 1) }))
      .where('jti', '=', event.jti)
      .where('locker_id', '=', s.lockerId)
      .where('action', '=', 'deposit_batch')
      .execute();
    return;
  }
  const grant = await s.trx
    .updateTable('grants')
    .set((eb) => ({ status: 'used', used_at: event.at, uses: eb('uses', '+', 1) }))
    .where('jti', '=', event.jti)
    .where('locker_id', '=', s.lockerId)
    .returning(['uses', 'parcel_id', 'status'])
    .executeTakeFirst();
  if (!grant) {
    s.ctx.stats.eventsAnomalous++;
    s.ctx.log.warn({ lockerId: s.lockerId, seq: event.seq }, 'device accepted a grant the server does not know');
    return;
  }
  if (grant.uses > 1) {
    s.ctx.stats.grantReuse++;
    s.ctx.log.warn({ lockerId: s.lockerId, seq: event.seq, jti: event.jti }, 'grant reported used more than once');
    const parcel = await s.trx.selectFrom('parcels').select('status').where('id', '=', grant.parcel_id).executeTakeFirst();
    if (parcel) await addHistory(s, grant.parcel_id, event.at, 'grant.reused', parcel.status, ref, { jti: event.jti });
    await raiseAlarm(s.trx, { lockerId: s.lockerId, parcelId: grant.parcel_id, kind: 'grant_reused', at: event.at, detail: { jti: event.jti } });
  }
}

async function moveParcel(s: EffectScope, event: DeviceEvent, ref: string, trigger: ParcelTrigger): Promise<void> {
  const { trx, ctx, lockerId } = s;
  const parcel = event.parcelId
    ? await trx.selectFrom('parcels').selectAll().where('id', '=', event.parcelId).where('locker_id', '=', lockerId).executeTakeFirst()
    : undefined;
  if (!parcel) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq, type: event.type }, 'event for a parcel this locker does not hold');
    return;
  }
  const now = ctx.clock.now();
  const wasCancelled = parcel.status === 'cancelled';
  let status: ParcelStatus = parcel.status;
  if (trigger === 'pickup' && (status === 'booked' || status === 'cancelled')) {
    // The deposit event has not arrived yet (or was reordered): the pickup proves it happened.
    status = 'in_locker';
    await trx.updateTable('parcels').set({ deposited_at: event.at }).where('id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, 'deposited', status, ref, { inferred: true });
  }
  const next = nextStatus(status, trigger);
  if (!next) {
    await addHistory(s, parcel.id, event.at, `${event.type}.ignored`, status, ref, { from: parcel.status });
    return;
  }
  if (wasCancelled) {
    // The door sensor's truth wins: the locker took this parcel before it learned of the cancellation.
    await trx.updateTable('parcels').set({ release_version: null }).where('id', '=', parcel.id).execute();
    await raiseAlarm(trx, { lockerId, compartmentId: parcel.compartment_id, parcelId: parcel.id, kind: 'revoked_grant_used', at: event.at, detail: { seq: event.seq, type: event.type } });
    await holdCompartment(s, parcel, event.at);
  }
  const detail = { compartmentId: event.compartmentId, ...(wasCancelled ? { reconciled: true } : {}), ...(event.reason ? { reason: event.reason } : {}) };
  if (trigger === 'deposit') {
    await trx.updateTable('parcels').set({ status: next, deposited_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, 'deposited', next, ref, detail);
    if (wasCancelled) await reissuePickupGrant(s, parcel);
    await issuePickupNotification(s, parcel, now);
    await enqueueParcelEvent(trx, parcel, 'parcel.deposited', event.at, detail);
  } else {
    await trx.updateTable('parcels').set({ status: next, picked_up_at: event.at, updated_at: now }).where('id', '=', parcel.id).execute();
    await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('parcel_id', '=', parcel.id).execute();
    await addHistory(s, parcel.id, event.at, trigger === 'collect' ? 'collected' : 'picked_up', next, ref, detail);
    await enqueueParcelEvent(trx, parcel, trigger === 'collect' ? 'parcel.returned' : 'parcel.picked_up', event.at, detail);
  }
}

/**
 * The locker put the parcel into another compartment (`fromCompartmentId` → `compartmentId`): it did not fit,
 * or the booked compartment's lock jammed. The door sensors are the truth, so the server follows: the old
 * compartment lets go of the parcel, the new one takes it, the parcel names the new one, in this transaction.
 * Every update is conditional; a new compartment the server had promised to another parcel raises
 * `compartment_conflict`. The parcel's codes stay the same: the locker opens the compartment where it put the
 * parcel for a code naming the old one (see docs/protocol.md, "Moved parcels").
 */
async function followMove(s: EffectScope, event: DeviceEvent, ref: string): Promise<void> {
  const { trx, ctx, lockerId } = s;
  const to = event.compartmentId;
  const from = event.fromCompartmentId;
  const parcel = event.parcelId
    ? await trx.selectFrom('parcels').selectAll().where('id', '=', event.parcelId).where('locker_id', '=', lockerId).executeTakeFirst()
    : undefined;
  if (!parcel || !to || !from) {
    ctx.stats.eventsAnomalous++;
    ctx.log.warn({ lockerId, seq: event.seq }, 'parcel.moved for a parcel this locker does not hold');
    return;
  }
  const now = ctx.clock.now();
  const detail = { from, to, ...(event.reason ? { reason: event.reason } : {}) };
  const moved = await trx
    .updateTable('parcels')
    .set({ compartment_id: to, updated_at: now })
    .where('id', '=', parcel.id)
    .where('compartment_id', '=', from)
    .executeTakeFirst();
  if (moved.numUpdatedRows === 0n) {
    // Already there (a replay) or somewhere else than the locker says: recorded, nothing moved.
    if (parcel.compartment_id !== to) {
      ctx.stats.eventsAnomalous++;
      await addHistory(s, parcel.id, event.at, 'parcel.moved.ignored', parcel.status, ref, { ...detail, compartmentId: parcel.compartment_id });
    }
    return;
  }
  await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('id', '=', from).where('parcel_id', '=', parcel.id).execute();
  const taken = await trx
    .updateTable('compartments')
    .set({ parcel_id: parcel.id })
    .where('locker_id', '=', lockerId)
    .where('id', '=', to)
    .where((eb) => eb.or([eb('parcel_id', 'is', null), eb('parcel_id', '=', parcel.id)]))
    .executeTakeFirst();
  if (taken.numUpdatedRows === 0n) {
    await raiseAlarm(trx, { lockerId, compartmentId: to, parcelId: parcel.id, kind: 'compartment_conflict', at: event.at, detail: { seq: event.seq, ...detail } });
  }
  await addHistory(s, parcel.id, event.at, 'moved', parcel.status, ref, detail);
}

/** A reconciled parcel takes its compartment back; if another parcel got it meanwhile, the operator is told. */
async function holdCompartment(s: EffectScope, parcel: ParcelRow, at: number): Promise<void> {
  const held = await s.trx
    .updateTable('compartments')
    .set({ parcel_id: parcel.id })
    .where('locker_id', '=', s.lockerId)
    .where('id', '=', parcel.compartment_id)
    .where((eb) => eb.or([eb('parcel_id', 'is', null), eb('parcel_id', '=', parcel.id)]))
    .executeTakeFirst();
  if (held.numUpdatedRows === 0n) {
    await raiseAlarm(s.trx, { lockerId: s.lockerId, compartmentId: parcel.compartment_id, parcelId: parcel.id, kind: 'compartment_conflict', at });
  }
}

/** The cancelled parcel's pickup grant was revoked; the recipient gets a new one. */
async function reissuePickupGrant(s: EffectScope, parcel: ParcelRow): Promise<void> {
  const now = s.ctx.clock.now();
  const pickup = await issueGrant(s.ctx, s.trx, {
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
  const grant = await s.trx
    .selectFrom('grants')
    .select('jti')
    .where('parcel_id', '=', parcel.id)
    .where('action', '=', 'pickup')
    .where('status', '=', 'live')
    .orderBy('exp', 'desc')
    .executeTakeFirst();
  if (!grant) return;
  await s.trx
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

/** The device's word on a command is final (it is the one that drove the lock or did not). */
async function finishCommand(s: EffectScope, event: DeviceEvent): Promise<void> {
  if (!event.commandId) return;
  const state = event.type === 'command.succeeded' ? 'succeeded' : event.type === 'command.failed' ? 'failed' : 'expired';
  await s.trx
    .updateTable('commands')
    .set({ state, result: event.reason ?? null, updated_at: s.ctx.clock.now() })
    .where('id', '=', event.commandId)
    .where('locker_id', '=', s.lockerId)
    .execute();
}

function addHistory(s: EffectScope, parcelId: string, at: number, type: string, status: ParcelStatus, sourceRef: string, detail: Record<string, unknown>): Promise<void> {
  return s.uow.addHistory({ parcelId, at, type, status, source: 'device', sourceRef, detail });
}
