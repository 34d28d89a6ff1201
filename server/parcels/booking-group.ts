/**
 * A group of bookings in one transaction (booking-queue.ts), written with as few statements as the rules allow:
 * - the group first takes its lockers' rows, in id order (Postgres; server/store/lock-order.ts);
 * - each booking then reads its locker's compartments and reserves the best free one with a conditional update
 *   (two statements; one more per compartment another process took first);
 * - the group's PINs are checked in one query, its grants signed, its new desired-state versions taken in one
 *   statement, and its parcels, grants, history, webhook outbox rows and desired changes inserted with one
 *   multi-row insert each.
 * A booking that is refused (a LockstepError: unknown locker, size not offered, locker full) is refused before its
 * reservation, so it has written nothing and the others go on. Any other failure aborts the group, which then runs
 * again booking by booking, each in its own transaction (server/store/group-commit.ts).
 */
import type { Transaction } from 'kysely';
import type { StateChange } from '../../shared/messages.js';
import type { ParcelKind } from '../../shared/api/parcels.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { draftGrants, insertGrants, type GrantRequest, type IssuedGrant } from '../codes/grant-issuer.js';
import { UnitOfWork, addHistory, historyEvent, type HistoryEntry } from '../desired-state/unit-of-work.js';
import { publishDelta, recordDesiredChanges, takeDesiredVersions, type DesiredChange } from '../desired-state/desired-state.js';
import { insertDeliveries, parcelEventDelivery, type HookCache } from '../webhooks/parcel-events.js';
import { lockLockersFirst } from '../store/lock-order.js';
import { prepareQuery } from '../store/prepared-query.js';
import type { Database, ParcelRow } from '../store/schema.js';
import { chooseCompartment, compartmentCandidates, rankFree, reserveFirstFree } from './allocation.js';
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

/** Writes the group's bookings (sorted by locker) in `trx`; one outcome per item, in order. */
export async function writeBookingGroup(ctx: ServerContext, trx: Trx, items: readonly BookingItem[]): Promise<BookingOutcome[]> {
  await lockLockersFirst(trx, [...new Set(items.map((i) => i.lockerId))]);
  const outcomes: (BookingOutcome | Reserved)[] = [];
  for (const item of items) {
    try {
      outcomes.push(await reserve(ctx, trx, item));
    } catch (err) {
      if (!(err instanceof LockstepError)) throw err;
      outcomes.push({ ok: false, err });
    }
  }
  const reserved = outcomes.filter((o): o is Reserved => 'item' in o);
  const written = await writeReserved(ctx, trx, reserved);
  return outcomes.map((o) => ('item' in o ? { ok: true, booked: written.get(o) as Booked } : o));
}

/** A booking whose compartment is reserved: the rest is written with the group's. */
interface Reserved {
  item: BookingItem;
  parcel: ParcelRow;
  low: boolean;
}

/** Reads the locker, picks and reserves the compartment; refuses (throws a LockstepError) before writing anything. */
async function reserve(ctx: ServerContext, trx: Trx, item: BookingItem): Promise<Reserved> {
  const { req, kind, parcelId, principalId } = item;
  const compartments = await compartmentCandidates(trx, req.lockerId);
  if (!compartments) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
  const choice = chooseCompartment(compartments, req.size);
  if (!choice.ok) {
    // A full locker answers with the nearest lockers that have a fitting compartment free.
    const alternatives = choice.code === 'NO_FREE_COMPARTMENT' ? await nearestWithSpace(trx, req.lockerId, req.size) : [];
    throw new LockstepError(choice.code, { lockerId: req.lockerId, size: req.size, ...(alternatives.length ? { alternatives } : {}) });
  }
  // Best first, each with a conditional update: two bookings never share a compartment, and one that lost the
  // race for it (another server process) takes the next free one.
  const compartmentId = await reserveFirstFree(trx, req.lockerId, parcelId, rankFree(compartments, req.size, req.accessible));
  if (!compartmentId) throw new LockstepError('NO_FREE_COMPARTMENT', { lockerId: req.lockerId });
  const taken = compartments.find((c) => c.id === compartmentId);
  const now = ctx.clock.now();
  const parcel: ParcelRow = {
    id: parcelId,
    locker_id: req.lockerId,
    compartment_id: compartmentId,
    size: taken?.size ?? req.size,
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
  return { item, parcel, low: taken?.low === true };
}

/** The reserved bookings' grants, versions and rows, a statement per kind of row for the whole group. */
async function writeReserved(ctx: ServerContext, trx: Trx, reserved: readonly Reserved[]): Promise<Map<Reserved, Booked>> {
  const written = new Map<Reserved, Booked>();
  if (reserved.length === 0) return written;
  const now = ctx.clock.now();
  const depositUntil = now + ctx.config.depositWindowSec * 1000;
  const grantRequests = reserved.flatMap(({ parcel }): GrantRequest[] => {
    const base = { lockerId: parcel.locker_id, parcelId: parcel.id, compartmentId: parcel.compartment_id as string, notBefore: now };
    return [
      { ...base, action: 'deposit', expiresAt: depositUntil },
      { ...base, action: 'pickup', expiresAt: depositUntil + ctx.config.pickupWindowSec * 1000 },
    ];
  });
  const grants = await draftGrants(ctx, trx, grantRequests);

  // Each locker's new versions, in the order of its bookings.
  const counts = new Map<string, number>();
  for (const r of reserved) counts.set(r.parcel.locker_id, (counts.get(r.parcel.locker_id) ?? 0) + 1);
  const last = await takeDesiredVersions(trx, counts);
  const next = new Map([...counts].map(([id, n]) => [id, (last.get(id) ?? 0) - n + 1]));

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
    uow.afterCommit('desired-state delta not published; the next snapshot carries it', () => publishDelta(ctx, change.lockerId, change.version, change.changes), change.lockerId);
    written.set(r, { parcel, dropoff, low: r.low, uow });
  }

  await insertParcels.run(trx, { rows: reserved.map((r) => r.parcel) });
  await insertGrants.run(trx, { rows: grants.map((g) => g.row) });
  await addHistory(trx, ...history);
  const outbox = deliveries.flatMap((d) => (d ? [d] : []));
  if (outbox.length) await insertDeliveries.run(trx, { rows: outbox });
  await recordDesiredChanges(trx, changes, now);
  return written;
}

// Compiled once per row count (server/store/prepared-query.ts).
const insertParcels = prepareQuery((db, a: { rows: ParcelRow[] }) => db.insertInto('parcels').values(a.rows));
