/**
 * A group of bookings in one transaction (booking-queue.ts), written with a fixed number of statements whatever its
 * size:
 * - the group first takes its lockers' rows, in id order (Postgres; server/store/lock-order.ts);
 * - it reads their compartments in one query, picks for every booking in order (allocation.ts rules), and reserves
 *   every pick with one conditional update; a pick another writer holds after all goes to another round;
 * - the group's PINs are checked in one query, its grants signed, its new desired-state versions taken in one
 *   statement, and its parcels, grants, history, webhook outbox rows and desired changes inserted with one
 *   multi-row insert each.
 * A booking that is refused (a LockstepError: unknown locker, size not offered, locker full, no PIN left) has written
 * nothing that stays: it is refused before its reservation, or (no PIN left) its reservation is undone. The others
 * go on. Any other failure aborts the group, which then runs again booking by booking, each in its own transaction
 * (server/store/group-commit.ts).
 */
import type { Transaction } from 'kysely';
import type { StateChange } from '../../shared/messages.js';
import type { ParcelKind } from '../../shared/api/parcels.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { draftGrants, insertGrants, type GrantRequest, type IssuedGrant } from '../codes/grant-issuer.js';
import { UnitOfWork, addHistory, historyEvent, type HistoryEntry } from '../desired-state/unit-of-work.js';
import { recordDesiredChanges, takeDesiredVersions, type DesiredChange } from '../desired-state/desired-state.js';
import { insertDeliveries, parcelEventDelivery, type HookCache } from '../webhooks/parcel-events.js';
import { lockLockersFirst } from '../store/lock-order.js';
import { prepareQuery } from '../store/prepared-query.js';
import type { Database, ParcelRow } from '../store/schema.js';
import { chooseCompartment, lockersCompartments, rankFree, reservePicks, type CompartmentCandidate, type Pick } from './allocation.js';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import { nearestWithSpace } from './nearest-lockers.js';
import type { BookingRequest } from './booking.js';

/** One booking as the queue holds it. */
export interface BookingItem {
  lockerId: string;
  req: BookingRequest;
  kind: ParcelKind;
  parcelId: string;
  principalId: string;
}

/** A booking written in the group: what its caller answers once the group committed. */
export interface Booked {
  parcel: ParcelRow;
  dropoff: IssuedGrant;
  /** Its compartment is a low one. */
  low: boolean;
  /** What to do once committed: announce the history entry, publish the delta. */
  uow: UnitOfWork;
}

export type BookingOutcome = { ok: true; booked: Booked } | { ok: false; err: LockstepError };

type Trx = Transaction<Database>;

/** Reads and reservations per group before a booking whose picks were all taken by other writers is refused. */
const MAX_ROUNDS = 8;
/** Marks a compartment this group failed to reserve as held, for the picks after it. */
const LOST = '\u0000lost';

/** Writes the group's bookings (sorted by locker) in `trx`; one outcome per item, in order. */
export async function writeBookingGroup(ctx: ServerContext, trx: Trx, items: readonly BookingItem[]): Promise<BookingOutcome[]> {
  // One time for the whole group: a booking's rows, grants, history and webhook event all say the same.
  const now = ctx.clock.now();
  await lockLockersFirst(trx, [...new Set(items.map((i) => i.lockerId))]);
  const outcomes: (BookingOutcome | Reserved | undefined)[] = items.map(() => undefined);
  // Each round reads the lockers still needed and picks for every booking left, in order, then reserves all picks
  // with one conditional update; a pick another writer took first (another server process) goes to the next round.
  let left = items.map((_, i) => i);
  // Picks that were not reserved: another writer took them between the read and the update.
  const lost = new Set<string>();
  for (let round = 0; left.length > 0 && round < MAX_ROUNDS; round++) {
    const compartments = await lockersCompartments(trx, [...new Set(left.map((i) => (items[i] as BookingItem).lockerId))]);
    for (const [lockerId, list] of compartments) {
      for (const c of list) if (lost.has(`${lockerId}/${c.id}`)) c.parcelId = LOST;
    }
    const picked: { i: number; pick: Pick; low: boolean; size: CompartmentSize }[] = [];
    for (const i of left) {
      const item = items[i] as BookingItem;
      try {
        const chosen = await pick(trx, item, compartments.get(item.lockerId));
        picked.push({ i, pick: { lockerId: item.lockerId, compartmentId: chosen.id, parcelId: item.parcelId }, low: chosen.low === true, size: chosen.size });
      } catch (err) {
        if (!(err instanceof LockstepError)) throw err;
        outcomes[i] = { ok: false, err };
      }
    }
    const reserved = await reservePicks(trx, picked.map((p) => p.pick));
    for (const p of picked) {
      const at = `${p.pick.lockerId}/${p.pick.compartmentId}`;
      if (reserved.has(at)) outcomes[p.i] = reservation(items[p.i] as BookingItem, now, p.pick.compartmentId, p.size, p.low);
      else lost.add(at);
    }
    left = picked.filter((p) => outcomes[p.i] === undefined).map((p) => p.i);
  }
  for (const i of left) outcomes[i] = { ok: false, err: await full(trx, (items[i] as BookingItem).req) };
  const reservedAll = outcomes.filter((o): o is Reserved => o !== undefined && 'item' in o);
  const { written, refused } = await writeReserved(ctx, trx, reservedAll, now);
  return outcomes.map((o): BookingOutcome => {
    if (o === undefined || !('item' in o)) return o as BookingOutcome;
    const err = refused.get(o);
    return err ? { ok: false, err } : { ok: true, booked: written.get(o) as Booked };
  });
}

/** A booking whose compartment is reserved: the rest is written with the group's. */
interface Reserved {
  item: BookingItem;
  parcel: ParcelRow;
  low: boolean;
}

/**
 * The best free compartment for the booking among `compartments` (its locker's, as this group sees them), marked as
 * taken there for the bookings after it; a refusal (LockstepError) otherwise.
 */
async function pick(trx: Trx, item: BookingItem, compartments: CompartmentCandidate[] | undefined): Promise<CompartmentCandidate> {
  const { req } = item;
  if (!compartments) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
  const choice = chooseCompartment(compartments, req.size);
  if (!choice.ok) throw choice.code === 'NO_FREE_COMPARTMENT' ? await full(trx, req) : new LockstepError(choice.code, { lockerId: req.lockerId, size: req.size });
  const best = rankFree(compartments, req.size, req.accessible)[0];
  const chosen = compartments.find((c) => c.id === best) as CompartmentCandidate;
  chosen.parcelId = item.parcelId;
  return chosen;
}

/** A full locker's refusal, with the nearest lockers that have a fitting compartment free. */
async function full(trx: Trx, req: BookingRequest): Promise<LockstepError> {
  const alternatives = await nearestWithSpace(trx, req.lockerId, req.size);
  return new LockstepError('NO_FREE_COMPARTMENT', { lockerId: req.lockerId, size: req.size, ...(alternatives.length ? { alternatives } : {}) });
}

/** The parcel row of a booking whose compartment is reserved. */
function reservation(item: BookingItem, now: number, compartmentId: string, size: CompartmentSize, low: boolean): Reserved {
  const { req, kind, parcelId, principalId } = item;
  const parcel: ParcelRow = {
    id: parcelId,
    locker_id: req.lockerId,
    compartment_id: compartmentId,
    size,
    status: 'booked',
    reference: req.reference,
    recipient: JSON.stringify(req.recipient),
    created_by: principalId,
    created_at: now,
    updated_at: now,
    deposited_at: null,
    picked_up_at: null,
    release_version: null,
    kind,
    sender: req.sender ? JSON.stringify(req.sender) : null,
    pickup_deadline: null,
    paused_since: null,
    pause_reason: null,
    paused_ms: 0,
    extensions: 0,
  };
  return { item, parcel, low };
}

/**
 * The reserved bookings' grants, versions and rows, a statement per kind of row for the whole group. A locker with no
 * PIN left refuses its bookings here: their reservations are undone and the rest are written.
 */
async function writeReserved(
  ctx: ServerContext,
  trx: Trx,
  all: readonly Reserved[],
  now: number,
): Promise<{ written: Map<Reserved, Booked>; refused: Map<Reserved, LockstepError> }> {
  const written = new Map<Reserved, Booked>();
  const refused = new Map<Reserved, LockstepError>();
  const { reserved, grants } = await draftPins(ctx, trx, all, now, refused);
  if (reserved.length === 0) return { written, refused };

  // Each locker's new versions, in the order of its bookings.
  const counts = new Map<string, number>();
  for (const r of reserved) counts.set(r.parcel.locker_id, (counts.get(r.parcel.locker_id) ?? 0) + 1);
  const last = await takeDesiredVersions(trx, counts);
  const next = new Map([...counts].map(([id, n]) => [id, (last.get(id) as number) - n + 1]));

  const history: HistoryEntry[] = [];
  const changes: DesiredChange[] = [];
  const deliveries = [];
  const hooks: HookCache = new Map();
  for (const [i, r] of reserved.entries()) {
    const { parcel, item } = r;
    const [dropoff, pickup] = [grants[2 * i], grants[2 * i + 1]] as [IssuedGrant, IssuedGrant];
    const version = next.get(parcel.locker_id) as number;
    next.set(parcel.locker_id, version + 1);
    const entry: HistoryEntry = {
      parcelId: parcel.id,
      at: now,
      type: 'booked',
      status: 'booked',
      source: 'api',
      sourceRef: item.principalId,
      detail: { compartmentId: parcel.compartment_id, size: parcel.size, ...(item.kind !== 'delivery' ? { kind: item.kind } : {}) },
    };
    history.push(entry);
    const change: DesiredChange = {
      lockerId: parcel.locker_id,
      version,
      changes: [
        { op: 'grant.add', token: dropoff.row.token },
        { op: 'grant.add', token: pickup.row.token },
      ] satisfies StateChange[],
    };
    changes.push(change);
    deliveries.push(await parcelEventDelivery(trx, parcel, 'parcel.booked', now, {}, hooks));
    // A sender booking: the drop-off code goes to the sender through the carrier's system.
    if (item.kind !== 'delivery') deliveries.push(await parcelEventDelivery(trx, parcel, 'parcel.dropoff_code', now, { grantJti: dropoff.row.jti }, hooks));
    const uow = new UnitOfWork(trx, ctx);
    uow.announce(historyEvent(entry));
    uow.publishAfterCommit(change.lockerId, change.version, change.changes);
    written.set(r, { parcel, dropoff, low: r.low, uow });
  }

  await insertParcels.run(trx, { rows: reserved.map((r) => r.parcel) });
  await insertGrants.run(trx, { rows: grants.map((g) => g.row) });
  await addHistory(trx, ...history);
  const outbox = deliveries.flatMap((d) => (d ? [d] : []));
  if (outbox.length) await insertDeliveries.run(trx, { rows: outbox });
  await recordDesiredChanges(trx, changes, now);
  return { written, refused };
}

/**
 * The grants of the reserved bookings, two each in their order. A locker with no PIN left refuses its bookings
 * (into `refused`; their reservations undone) and the others are drafted again.
 */
async function draftPins(
  ctx: ServerContext,
  trx: Trx,
  all: readonly Reserved[],
  now: number,
  refused: Map<Reserved, LockstepError>,
): Promise<{ reserved: readonly Reserved[]; grants: IssuedGrant[] }> {
  let reserved = all;
  for (;;) {
    if (reserved.length === 0) return { reserved, grants: [] };
    try {
      return { reserved, grants: await draftGrants(ctx, trx, reserved.flatMap((r) => grantRequests(ctx, r.parcel, now))) };
    } catch (err) {
      const lockerId = err instanceof LockstepError && err.code === 'CODE_SPACE_EXHAUSTED' ? err.details?.lockerId : undefined;
      if (typeof lockerId !== 'string') throw err;
      const out = reserved.filter((r) => r.parcel.locker_id === lockerId);
      for (const r of out) refused.set(r, err as LockstepError);
      await releaseReservations(trx, out.map((r) => r.parcel.id));
      reserved = reserved.filter((r) => r.parcel.locker_id !== lockerId);
    }
  }
}

/** A booking's drop-off and pickup grants. */
function grantRequests(ctx: ServerContext, parcel: ParcelRow, now: number): GrantRequest[] {
  const depositUntil = now + ctx.config.depositWindowSec * 1000;
  const base = { lockerId: parcel.locker_id, parcelId: parcel.id, compartmentId: parcel.compartment_id as string, notBefore: now };
  return [
    { ...base, action: 'deposit', expiresAt: depositUntil },
    { ...base, action: 'pickup', expiresAt: depositUntil + ctx.config.pickupWindowSec * 1000 },
  ];
}

/** Undoes reservations made earlier in this transaction (bookings refused after them). */
async function releaseReservations(trx: Trx, parcelIds: readonly string[]): Promise<void> {
  await trx.updateTable('compartments').set({ parcel_id: null }).where('parcel_id', 'in', parcelIds).execute();
}

// Compiled once per row count (server/store/prepared-query.ts).
const insertParcels = prepareQuery((db, a: { rows: ParcelRow[] }) => db.insertInto('parcels').values(a.rows));
