import { Type, type Static } from '@sinclair/typebox';
import { CompartmentSize } from '../compartment-sizes.js';
import { LockerId, OpaqueId } from '../ids.js';
import { MAX_BATCH_ITEMS } from '../messages.js';
import { CursorParam, LimitParam, Page, TimeParam } from './listing.js';

/** A parcel's place in its lifecycle (server/parcels/lifecycle.ts says which trigger moves it where). */
export const PARCEL_STATUSES = ['booked', 'in_locker', 'picked_up', 'expired', 'returned', 'cancelled'] as const;
export const ParcelStatus = Type.Union(PARCEL_STATUSES.map((s) => Type.Literal(s)));
export type ParcelStatus = (typeof PARCEL_STATUSES)[number];

/** `delivery`: a carrier's parcel for a recipient; `return`: a sender returns it to the carrier; `p2p`: a seller hands it to a buyer. */
export const PARCEL_KINDS = ['delivery', 'return', 'p2p'] as const;
export const ParcelKind = Type.Union(PARCEL_KINDS.map((k) => Type.Literal(k)));
export type ParcelKind = (typeof PARCEL_KINDS)[number];

export const Recipient = Type.Object(
  {
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ]{5,19}$' })),
    email: Type.Optional(Type.String({ pattern: '^[^@\\s]{1,64}@[^@\\s]{1,255}$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type Recipient = Static<typeof Recipient>;

const NullableTime = Type.Union([Type.Integer(), Type.Null()]);

export const ParcelView = Type.Object({
  id: Type.String(),
  status: ParcelStatus,
  lockerId: Type.String(),
  compartmentId: Type.String(),
  size: CompartmentSize,
  reference: Type.String(),
  recipient: Recipient,
  /** `delivery` (a carrier's parcel), `return` (a sender returns it to the carrier), `p2p` (a seller hands it to a buyer). */
  kind: ParcelKind,
  /** Who drops it off (return, p2p); null for a delivery. */
  sender: Type.Union([Recipient, Type.Null()]),
  createdAt: Type.Integer(),
  depositedAt: NullableTime,
  pickedUpAt: NullableTime,
  /** End of the pickup window, once the deposit is known (moved by pauses and extensions). */
  pickupDeadline: NullableTime,
  /** Since when the pickup window stands still (locker offline, compartment out of service); null while it runs. */
  windowPausedSince: NullableTime,
  extensions: Type.Integer(),
});
export type ParcelView = Static<typeof ParcelView>;

/** GET /v1/parcels: newest first, a keyset page (shared/api/listing.ts). */
export const ParcelList = Page(ParcelView);
export type ParcelList = Static<typeof ParcelList>;

export const HistoryEntry = Type.Object({
  at: Type.Integer(),
  type: Type.String(),
  status: ParcelStatus,
  source: Type.String(),
  sourceRef: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

/** A code a person types (PIN) or shows (QR: the grant itself). */
export const Code = Type.Object({ pin: Type.String(), qr: Type.String() });
export type Code = Static<typeof Code>;

export const NotificationView = Type.Object({
  id: Type.String(),
  /** `pickup_code` for the recipient; `collection_code` for the carrier, once the pickup window ended. */
  kind: Type.Union([Type.Literal('pickup_code'), Type.Literal('collection_code')]),
  to: Type.Union([Recipient, Type.Object({ carrier: Type.String() })]),
  createdAt: Type.Integer(),
  code: Code,
});
export type NotificationView = Static<typeof NotificationView>;

export const NotificationList = Type.Object({ notifications: Type.Array(NotificationView) });
export type NotificationList = Static<typeof NotificationList>;

/** POST /v1/parcels */
export const BookingBody = Type.Object(
  {
    lockerId: LockerId,
    size: CompartmentSize,
    recipient: Recipient,
    reference: Type.String({ minLength: 1, maxLength: 100 }),
    /** `delivery` (default), `return` or `p2p`; the last two need `sender`. */
    kind: Type.Optional(ParcelKind),
    sender: Type.Optional(Recipient),
    /** Ask for a low compartment (reachable from a wheelchair); see `lowCompartment` in the answer. */
    accessible: Type.Optional(Type.Boolean()),
  },
  // The example of the API document (issue 16).
  { additionalProperties: false, examples: [{ lockerId: 'lk_3f9a1c2b7d4e5f60', size: 'M', recipient: { phone: '+48 600 100 200' }, reference: 'ORDER-4711' }] },
);
export type BookingBody = Static<typeof BookingBody>;

/** The answer to a booking: the parcel and its drop-off code (shown only here). */
export const BookingView = Type.Intersect([
  ParcelView,
  Type.Object({
    dropoff: Code,
    /** Only when the booking asked `accessible: true`: whether it got a low compartment (false: none was free, it got another). */
    lowCompartment: Type.Optional(Type.Boolean()),
  }),
]);
export type BookingView = Static<typeof BookingView>;

/** Query of GET /v1/parcels: every filter optional, all of them apply; a carrier sees only the parcels it booked. */
export const ParcelQuery = Type.Object(
  {
    /** The carrier's reference, exactly. */
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** References starting with this. */
    referencePrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    status: Type.Optional(ParcelStatus),
    lockerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Booked at or after (ms since the epoch). */
    createdFrom: Type.Optional(TimeParam),
    /** Booked before (ms since the epoch). */
    createdTo: Type.Optional(TimeParam),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type ParcelQuery = Static<typeof ParcelQuery>;

export const ParcelWithHistory = Type.Intersect([ParcelView, Type.Object({ history: Type.Array(HistoryEntry) })]);
export type ParcelWithHistory = Static<typeof ParcelWithHistory>;

/** GET /v1/parcels/:id/timeline */
export const TimelineView = Type.Object({ parcelId: Type.String(), status: ParcelStatus, entries: Type.Array(HistoryEntry) });
export type TimelineView = Static<typeof TimelineView>;

/** POST /v1/lockers/:id/deposit-sessions: a courier's one code for a van's worth of parcels at one locker. */
export const DepositSessionBody = Type.Object(
  { parcelIds: Type.Array(OpaqueId, { minItems: 1, maxItems: MAX_BATCH_ITEMS, uniqueItems: true }) },
  { additionalProperties: false },
);
export type DepositSessionBody = Static<typeof DepositSessionBody>;

export const DepositSessionView = Type.Object({
  sessionId: Type.String(),
  lockerId: Type.String(),
  code: Code,
  expiresAt: Type.Integer(),
  parcels: Type.Array(Type.Object({ parcelId: Type.String(), compartmentId: Type.String() })),
});
export type DepositSessionView = Static<typeof DepositSessionView>;
