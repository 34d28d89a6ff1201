import { randomUUID } from 'node:crypto';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import type { StateChange } from '../../shared/messages.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { issueGrants, type IssuedGrant } from '../codes/grant-issuer.js';
import { UnitOfWork } from '../desired-state/unit-of-work.js';
import { chooseCompartment, compartmentCandidates, rankFree, reserveFirstFree } from './allocation.js';
import { nearestWithSpace } from './nearest-lockers.js';
import { enqueueParcelEvent } from '../webhooks/parcel-events.js';
import type { ParcelKind } from '../../shared/api/parcels.js';
import type { ParcelRow } from '../store/schema.js';
import { inBookingGroup } from './booking-queue.js';
import { prepareQuery } from '../store/prepared-query.js';

interface Recipient {
  phone?: string;
  email?: string;
}

export interface BookingRequest {
  lockerId: string;
  size: CompartmentSize;
  recipient: Recipient;
  reference: string;
  /** `delivery` (default), `return` or `p2p`: the last two are dropped off by `sender`. */
  kind?: ParcelKind;
  /** Who drops the parcel off (return, p2p): the carrier's system forwards the drop-off code to them. */
  sender?: Recipient;
  /** Prefer a low compartment (reachable from a wheelchair). */
  accessible?: boolean;
}

export interface Booking {
  parcel: ParcelRow;
  dropoff: { pin: string; qr: string };
  /** Set when the booking asked `accessible`: whether the compartment is a low one. */
  lowCompartment?: boolean;
}

/**
 * Books a parcel: reserves the smallest free compartment that fits, issues its drop-off and pickup grants,
 * and queues both for the locker in one new desired-state version. The drop-off PIN is returned once.
 * Bookings arriving together share one transaction and one durable commit (booking-queue.ts); this resolves
 * only after the commit that holds this booking.
 */
export async function bookParcel(ctx: ServerContext, req: BookingRequest, principalId: string): Promise<Booking> {
  const kind = req.kind ?? 'delivery';
  if (kind !== 'delivery' && !req.sender) throw new LockstepError('SENDER_REQUIRED', { kind });
  const parcelId = `p_${randomUUID().replaceAll('-', '')}`;
  const result = await inBookingGroup(ctx, req.lockerId, async (trx) => {
    // One unit of work per attempt: a booking retried alone, or rolled back in its savepoint, publishes nothing.
    const uow = new UnitOfWork(trx, ctx);
    return { ...(await bookInto(ctx, uow, req, kind, parcelId, principalId)), uow };
  });
  await result.uow.committed();
  return {
    parcel: result.parcel,
    dropoff: { pin: result.dropoff.pin, qr: result.dropoff.row.token },
    ...(req.accessible ? { lowCompartment: result.low } : {}),
  };
}

/** The booking's statements, inside the group's transaction (or its own, on a retry). */
async function bookInto(ctx: ServerContext, uow: UnitOfWork, req: BookingRequest, kind: ParcelKind, parcelId: string, principalId: string) {
  const now = ctx.clock.now();
  const trx = uow.trx;
  // The locker's row first: it says whether the locker exists, and orders bookings of one locker (Postgres).
  const version = await uow.takeDesiredVersion(req.lockerId);
  if (version === undefined) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
  const compartments = await compartmentCandidates(trx, req.lockerId);
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
  const size = compartments.find((c) => c.id === compartmentId)?.size ?? req.size;

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
  await insertParcel.run(trx, parcel);

  const depositUntil = now + ctx.config.depositWindowSec * 1000;
  const base = { lockerId: req.lockerId, parcelId, compartmentId, notBefore: now };
  const [dropoff, pickup] = (await issueGrants(ctx, trx, [
    { ...base, action: 'deposit', expiresAt: depositUntil },
    { ...base, action: 'pickup', expiresAt: depositUntil + ctx.config.pickupWindowSec * 1000 },
  ])) as [IssuedGrant, IssuedGrant];
  await uow.addHistory({ parcelId, at: now, type: 'booked', status: 'booked', source: 'api', sourceRef: principalId, detail: { compartmentId, size, ...(kind !== 'delivery' ? { kind } : {}) } });
  await enqueueParcelEvent(trx, parcel, 'parcel.booked', now);
  // A sender booking: the drop-off code goes to the sender through the carrier's system.
  if (kind !== 'delivery') await enqueueParcelEvent(trx, parcel, 'parcel.dropoff_code', now, { grantJti: dropoff.row.jti });
  const changes: StateChange[] = [
    { op: 'grant.add', token: dropoff.row.token },
    { op: 'grant.add', token: pickup.row.token },
  ];
  await uow.recordDesiredChange(req.lockerId, version, changes, now);
  return { parcel, dropoff, low: compartments.find((c) => c.id === compartmentId)?.low === true };
}

// The booking's own statements, compiled once (server/store/prepared-query.ts).
const insertParcel = prepareQuery((db, parcel: ParcelRow) => db.insertInto('parcels').values(parcel));
