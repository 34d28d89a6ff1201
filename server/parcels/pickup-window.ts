import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { StateChange } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import { issueGrant } from '../codes/grant-issuer.js';
import { pinSourceOf } from '../codes/pins.js';
import { inUnitOfWork, type UnitOfWork } from '../desired-state/unit-of-work.js';
import type { Database, HistorySource, ParcelRow, PauseReason } from '../store/schema.js';
import { lockLockersInOrder } from '../store/lock-order.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import { openWindow, pauseWindow, resumeWindow, type PickupWindow } from './lifecycle.js';

/** Who moved the window: the presence message of the locker, or a scheduler rule. */
interface WindowSource {
  source: HistorySource;
  ref: string;
}

type Trx = Transaction<Database>;

/**
 * Whether the locker named by `lockerRef` (a column: `l.id`, `lockers.id`, `v.id`) holds a parcel whose pickup
 * window its outage concerns: one booked for it (it may be deposited during the outage) or one lying in it. Used
 * in the scheduler's rules here and in the status statements (server/sync/locker-reports.ts, status-group-pg.ts).
 */
export function holdsParcels(lockerRef: string): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from parcels hp where hp.locker_id = ${sql.ref(lockerRef)} and hp.status in ('booked', 'in_locker'))`;
}

/** The window stored on a parcel (null until the deposit is known). */
export function windowOf(p: Pick<ParcelRow, 'pickup_deadline' | 'paused_since' | 'paused_ms' | 'extensions'>): PickupWindow | null {
  return p.pickup_deadline === null ? null : { deadline: p.pickup_deadline, pausedSince: p.paused_since, pausedMs: p.paused_ms, extensions: p.extensions };
}

/**
 * The locker must hold a pickup grant that lasts until the window's end: when the live one ends earlier (the
 * window was paused or extended), it is revoked and re-issued with the later end and the same PIN (the code the
 * recipient has keeps working; the QR changes and goes out with the event). Returns the desired-state changes.
 */
export async function coverDeadline(ctx: ServerContext, trx: Trx, parcel: ParcelRow, deadline: number): Promise<StateChange[]> {
  const grant = await trx
    .selectFrom('grants')
    .select(['jti', 'pin_jti', 'pin_hash', 'exp', 'nbf'])
    .where('parcel_id', '=', parcel.id)
    .where('action', '=', 'pickup')
    .where('status', '=', 'live')
    .orderBy('exp', 'desc')
    .executeTakeFirst();
  if (!grant || grant.exp * 1000 >= deadline) return [];
  const revoked = await trx.updateTable('grants').set({ status: 'revoked' }).where('jti', '=', grant.jti).where('status', '=', 'live').executeTakeFirst();
  if (revoked.numUpdatedRows !== 1n) return [];
  const next = await issueGrant(ctx, trx, {
    lockerId: parcel.locker_id,
    parcelId: parcel.id,
    compartmentId: parcel.compartment_id,
    action: 'pickup',
    notBefore: grant.nbf * 1000,
    expiresAt: Math.ceil(deadline / 1000) * 1000,
    keepPinOf: { pinJti: pinSourceOf(grant), pinHash: grant.pin_hash },
  });
  return [
    { op: 'grant.revoke', jti: grant.jti },
    { op: 'grant.add', token: next.row.token },
  ];
}

function addHistory(uow: UnitOfWork, parcel: ParcelRow, at: number, type: string, why: WindowSource, detail: Record<string, unknown>): Promise<void> {
  return uow.addHistory({ parcelId: parcel.id, at, type, status: parcel.status, source: why.source, sourceRef: why.ref, detail });
}

/** Stops the window of one parcel in the locker (conditional: only a running window). True when it did. */
async function pauseParcel(uow: UnitOfWork, parcel: ParcelRow, at: number, reason: PauseReason, why: WindowSource): Promise<boolean> {
  const w = windowOf(parcel);
  const paused = w && pauseWindow(w, Math.max(at, parcel.deposited_at ?? at));
  if (!paused || parcel.status !== 'in_locker') return false;
  const { trx } = uow;
  const r = await trx
    .updateTable('parcels')
    .set({ paused_since: paused.pausedSince, pause_reason: reason })
    .where('id', '=', parcel.id)
    .where('status', '=', 'in_locker')
    .where('paused_since', 'is', null)
    .executeTakeFirst();
  if (r.numUpdatedRows !== 1n) return false;
  await addHistory(uow, parcel, at, 'window_paused', why, { reason, pickupDeadline: paused.deadline });
  await enqueueParcelEvent(trx, parcel, 'parcel.window_paused', at, { window: { pickupDeadline: paused.deadline, reason, pausedSince: paused.pausedSince ?? at } });
  return true;
}

/**
 * Lets the window of one parcel run again, its end pushed by the pause; re-issues the pickup grant if needed (the
 * locker learns of it after the commit). False when it was not paused.
 */
async function resumeParcel(ctx: ServerContext, uow: UnitOfWork, parcel: ParcelRow, at: number, why: WindowSource): Promise<boolean> {
  const w = windowOf(parcel);
  const resumed = w && resumeWindow(w, at);
  if (!w || !resumed || parcel.status !== 'in_locker' || w.pausedSince === null) return false;
  const { trx } = uow;
  const r = await trx
    .updateTable('parcels')
    .set({ pickup_deadline: resumed.deadline, paused_ms: resumed.pausedMs, paused_since: null, pause_reason: null, updated_at: at })
    .where('id', '=', parcel.id)
    .where('status', '=', 'in_locker')
    .where('paused_since', '=', w.pausedSince)
    .executeTakeFirst();
  if (r.numUpdatedRows !== 1n) return false;
  const pausedMs = resumed.pausedMs - w.pausedMs;
  const changes = await coverDeadline(ctx, trx, parcel, resumed.deadline);
  await addHistory(uow, parcel, at, 'window_resumed', why, { pausedMs, pickupDeadline: resumed.deadline, ...(changes.length ? { pickupGrantReissued: true } : {}) });
  await enqueueParcelEvent(trx, parcel, 'parcel.window_resumed', at, { window: { pickupDeadline: resumed.deadline, pausedMs }, withCode: changes.length > 0 });
  if (changes.length) await uow.changeDesiredState(parcel.locker_id, changes, at);
  return true;
}

/**
 * The locker counts as offline from `since` (its offline status, or the last time it was heard from): every
 * running pickup window in it stands still. Nothing happens when it already counted as offline.
 */
async function markLockerUnavailable(ctx: ServerContext, lockerId: string, since: number, why: WindowSource): Promise<number> {
  return inUnitOfWork(ctx, async (uow) => {
    const r = await uow.trx.updateTable('lockers').set({ unavailable_since: since }).where('id', '=', lockerId).where('unavailable_since', 'is', null).executeTakeFirst();
    if (r.numUpdatedRows !== 1n) return 0;
    const parcels = await uow.trx
      .selectFrom('parcels')
      .selectAll()
      .where('locker_id', '=', lockerId)
      .where('status', '=', 'in_locker')
      .where('paused_since', 'is', null)
      .where('pickup_deadline', 'is not', null)
      .execute();
    let n = 0;
    for (const p of parcels) if (await pauseParcel(uow, p, since, 'locker_offline', why)) n++;
    return n;
  });
}

/**
 * The locker is back at `at`: its outage is remembered (a deposit recorded during it is credited when its event
 * arrives) and the windows of its parcels whose compartments are in service run again.
 */
async function markLockerAvailable(ctx: ServerContext, lockerId: string, at: number, why: WindowSource): Promise<number> {
  return inUnitOfWork(ctx, async (uow) => {
    const r = await uow.trx
      .updateTable('lockers')
      .set((eb) => ({ last_outage_from: eb.ref('unavailable_since'), last_outage_to: at, unavailable_since: null }))
      .where('id', '=', lockerId)
      .where('unavailable_since', 'is not', null)
      .executeTakeFirst();
    if (r.numUpdatedRows !== 1n) return 0;
    return resumeWhereAllowed(ctx, uow, at, why, lockerId);
  });
}

/** Resumes paused windows whose locker is available and compartment in service (of one locker, or all). */
async function resumeWhereAllowed(ctx: ServerContext, uow: UnitOfWork, at: number, why: WindowSource, lockerId?: string): Promise<number> {
  let q = uow.trx
    .selectFrom('parcels as p')
    .innerJoin('lockers as l', 'l.id', 'p.locker_id')
    .innerJoin('compartments as c', (j) => j.onRef('c.locker_id', '=', 'p.locker_id').onRef('c.id', '=', 'p.compartment_id'))
    .selectAll('p')
    .where('p.status', '=', 'in_locker')
    .where('p.paused_since', 'is not', null)
    .where('l.unavailable_since', 'is', null)
    .where('c.in_service', '=', 1)
    .limit(500);
  if (lockerId !== undefined) q = q.where('p.locker_id', '=', lockerId);
  let n = 0;
  for (const p of await q.execute()) if (await resumeParcel(ctx, uow, p, at, why)) n++;
  return n;
}

/**
 * Hook for the locker's presence message (`status`: online, or offline, the MQTT will included). Never throws:
 * the scheduler's reconciliation catches up with anything missed here.
 */
export async function onLockerPresence(ctx: ServerContext, lockerId: string, online: boolean): Promise<void> {
  const now = ctx.clock.now();
  const why = { source: 'device' as const, ref: `${lockerId}:status ${online ? 'online' : 'offline'}` };
  try {
    if (online) await markLockerAvailable(ctx, lockerId, now, why);
    else await markLockerUnavailable(ctx, lockerId, now, why);
  } catch (err) {
    ctx.log.error({ err, lockerId }, 'pickup window presence hook failed');
  }
}

/**
 * Scheduler rule: opens the window of parcels whose deposit became known, and keeps every window's pause in step
 * with the facts (locker presence, compartment service) whatever path changed them (presence messages, heartbeats,
 * jams, operators' service commands).
 */
export async function reconcileWindows(ctx: ServerContext): Promise<{ opened: number; paused: number; resumed: number }> {
  const now = ctx.clock.now();
  const why = { source: 'scheduler' as const, ref: 'pickup-window' };
  let paused = 0;
  let resumed = 0;
  // Only lockers that hold parcels (booked ones may be deposited during the outage) need their outage recorded;
  // a locker never heard from holds no deposited parcel.
  const silent = await ctx.db
    .selectFrom('lockers as l')
    .select(['l.id', 'l.last_seen_at'])
    .where('l.online', '=', 0)
    .where('l.unavailable_since', 'is', null)
    .where('l.last_seen_at', 'is not', null)
    .where(holdsParcels('l.id'))
    .limit(1000)
    .execute();
  for (const l of silent) paused += await markLockerUnavailable(ctx, l.id, l.last_seen_at ?? now, why);
  await closeIdleOutages(ctx, now);
  const back = await ctx.db.selectFrom('lockers').select('id').where('online', '=', 1).where('unavailable_since', 'is not', null).limit(1000).execute();
  for (const l of back) resumed += await markLockerAvailable(ctx, l.id, now, why);

  const opened = await openWindows(ctx, now, why);
  await inUnitOfWork(ctx, async (uow) => {
    const faulty = await uow.trx
      .selectFrom('parcels as p')
      .innerJoin('compartments as c', (j) => j.onRef('c.locker_id', '=', 'p.locker_id').onRef('c.id', '=', 'p.compartment_id'))
      .selectAll('p')
      .where('p.status', '=', 'in_locker')
      .where('p.paused_since', 'is', null)
      .where('p.pickup_deadline', 'is not', null)
      .where('c.in_service', '=', 0)
      .limit(500)
      .execute();
    for (const p of faulty) if (await pauseParcel(uow, p, now, 'compartment_out_of_service', why)) paused++;
    // A window that opened while the status statement marked its locker unavailable (it held no parcel when it
    // looked) stands still from the outage's start, as the presence hook would have done.
    const stranded = await uow.trx
      .selectFrom('parcels as p')
      .innerJoin('lockers as l', 'l.id', 'p.locker_id')
      .selectAll('p')
      .select('l.unavailable_since as since')
      .where('p.status', '=', 'in_locker')
      .where('p.paused_since', 'is', null)
      .where('p.pickup_deadline', 'is not', null)
      .where('l.unavailable_since', 'is not', null)
      .limit(500)
      .execute();
    for (const { since, ...p } of stranded) if (await pauseParcel(uow, p, Number(since), 'locker_offline', why)) paused++;
    resumed += await resumeWhereAllowed(ctx, uow, now, why);
  });
  return { opened, paused, resumed };
}

/**
 * Closes, in one statement per 1,000, the outages of lockers that are back online and hold no parcel (nothing to
 * resume): those whose online status was not written (refused as overloaded in a storm, a restart) and came back
 * by a heartbeat. The status statement closes the others itself (server/sync/locker-reports.ts).
 */
async function closeIdleOutages(ctx: ServerContext, now: number): Promise<void> {
  const idle = await ctx.db
    .selectFrom('lockers as l')
    .select('l.id')
    .where('l.online', '=', 1)
    .where('l.unavailable_since', 'is not', null)
    .where((eb) => eb.not(holdsParcels('l.id')))
    .limit(1000)
    .execute();
  if (idle.length === 0) return;
  const ids = idle.map((l) => l.id);
  await ctx.db.transaction().execute(async (trx) => {
    // Rows taken in id order, as every writer of several lockers does (store/lock-order.ts).
    await lockLockersInOrder(trx, ids);
    await trx
      .updateTable('lockers')
      .set((eb) => ({ last_outage_from: eb.ref('unavailable_since'), last_outage_to: now, unavailable_since: null }))
      .where('id', 'in', ids)
      .where('online', '=', 1)
      .where('unavailable_since', 'is not', null)
      .where((eb) => eb.not(holdsParcels('lockers.id')))
      .execute();
  });
}

/**
 * Sets the window's end of parcels whose deposit the server learned of: deposit time + PICKUP_WINDOW_SEC, plus the
 * part of the locker's last outage after the deposit; paused at once when the locker is offline or the
 * compartment out of service.
 */
async function openWindows(ctx: ServerContext, now: number, why: WindowSource): Promise<number> {
  const fresh = await ctx.db
    .selectFrom('parcels as p')
    .innerJoin('lockers as l', 'l.id', 'p.locker_id')
    .innerJoin('compartments as c', (j) => j.onRef('c.locker_id', '=', 'p.locker_id').onRef('c.id', '=', 'p.compartment_id'))
    .selectAll('p')
    .select(['l.unavailable_since', 'l.last_outage_from', 'l.last_outage_to', 'c.in_service'])
    .where('p.status', '=', 'in_locker')
    .where('p.pickup_deadline', 'is', null)
    .limit(500)
    .execute();
  let n = 0;
  for (const row of fresh) {
    const { unavailable_since, last_outage_from, last_outage_to, in_service, ...parcel } = row;
    await inUnitOfWork(ctx, async (uow) => {
      const outage = last_outage_from !== null && last_outage_to !== null ? { from: last_outage_from, to: last_outage_to } : null;
      const opened = await openParcelWindow(ctx, uow, parcel, outage);
      if (!opened) return;
      n++;
      const stamped = { ...parcel, ...opened };
      if (unavailable_since !== null) await pauseParcel(uow, stamped, unavailable_since, 'locker_offline', why);
      else if (in_service === 0) await pauseParcel(uow, stamped, now, 'compartment_out_of_service', why);
    });
  }
  return n;
}

/**
 * Stores the window a deposit opened (conditional: only once) and makes sure the pickup grant lasts that long.
 * Returns the columns set, or null when another path set them first. Used by the scheduler and by an extension
 * asked for in the second between the deposit and the scheduler's next run.
 */
export async function openParcelWindow(
  ctx: ServerContext,
  uow: UnitOfWork,
  parcel: ParcelRow,
  lastOutage: { from: number; to: number } | null,
): Promise<Pick<ParcelRow, 'pickup_deadline' | 'paused_ms'> | null> {
  if (parcel.deposited_at === null) return null;
  const w = openWindow(parcel.deposited_at, ctx.config.pickupWindowSec * 1000, lastOutage);
  const r = await uow.trx
    .updateTable('parcels')
    .set({ pickup_deadline: w.deadline, paused_ms: w.pausedMs })
    .where('id', '=', parcel.id)
    .where('status', '=', 'in_locker')
    .where('pickup_deadline', 'is', null)
    .executeTakeFirst();
  if (r.numUpdatedRows !== 1n) return null;
  const changes = await coverDeadline(ctx, uow.trx, parcel, w.deadline);
  if (changes.length) await uow.changeDesiredState(parcel.locker_id, changes, ctx.clock.now());
  return { pickup_deadline: w.deadline, paused_ms: w.pausedMs };
}
