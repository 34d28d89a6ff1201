import { Type, type Static } from '@sinclair/typebox';
import { CompartmentSize } from '../../shared/compartment-sizes.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { PARCEL_STATUSES, type ParcelRow } from '../store/schema.js';
import { derivePin } from '../codes/pins.js';

export const Recipient = Type.Object(
  {
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ]{5,19}$' })),
    email: Type.Optional(Type.String({ pattern: '^[^@\\s]{1,64}@[^@\\s]{1,255}$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ParcelStatusSchema = Type.Union(PARCEL_STATUSES.map((s) => Type.Literal(s)));

export const ParcelView = Type.Object({
  id: Type.String(),
  status: ParcelStatusSchema,
  lockerId: Type.String(),
  compartmentId: Type.String(),
  size: CompartmentSize,
  reference: Type.String(),
  recipient: Recipient,
  createdAt: Type.Integer(),
  depositedAt: Type.Union([Type.Integer(), Type.Null()]),
  pickedUpAt: Type.Union([Type.Integer(), Type.Null()]),
});
export type ParcelView = Static<typeof ParcelView>;

export const HistoryEntry = Type.Object({
  at: Type.Integer(),
  type: Type.String(),
  status: ParcelStatusSchema,
  source: Type.String(),
  sourceRef: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export const Code = Type.Object({ pin: Type.String(), qr: Type.String() });

export const NotificationView = Type.Object({
  id: Type.String(),
  /** `pickup_code` for the recipient; `collection_code` for the carrier, once the pickup window ended. */
  kind: Type.Union([Type.Literal('pickup_code'), Type.Literal('collection_code')]),
  to: Type.Union([Recipient, Type.Object({ carrier: Type.String() })]),
  createdAt: Type.Integer(),
  code: Code,
});

export function parcelView(p: ParcelRow): ParcelView {
  return {
    id: p.id,
    status: p.status,
    lockerId: p.locker_id,
    compartmentId: p.compartment_id,
    size: p.size,
    reference: p.reference,
    recipient: JSON.parse(p.recipient) as ParcelView['recipient'],
    createdAt: p.created_at,
    depositedAt: p.deposited_at,
    pickedUpAt: p.picked_up_at,
  };
}

/** `ownedBy` restricts the read to parcels with that `created_by` (a carrier's own); others read as not found. */
export async function readParcel(ctx: ServerContext, id: string, ownedBy?: string) {
  let query = ctx.db.selectFrom('parcels').selectAll().where('id', '=', id);
  if (ownedBy !== undefined) query = query.where('created_by', '=', ownedBy);
  const parcel = await query.executeTakeFirst();
  if (!parcel) throw new LockstepError('PARCEL_NOT_FOUND', { parcelId: id });
  const history = await ctx.db.selectFrom('parcel_history').selectAll().where('parcel_id', '=', id).orderBy('id').execute();
  return {
    ...parcelView(parcel),
    history: history.map((h) => ({
      at: h.at,
      type: h.type,
      status: h.status,
      source: h.source,
      sourceRef: h.source_ref,
      detail: h.detail ? (JSON.parse(h.detail) as Record<string, unknown>) : null,
    })),
  };
}

/**
 * Notifications sent for a parcel (`ownedBy` as in readParcel). Stand-in for real delivery: the pickup code is
 * re-derived from the grant id when read (PINs are never stored).
 */
export async function readNotifications(ctx: ServerContext, parcelId: string, ownedBy?: string) {
  let query = ctx.db.selectFrom('parcels').select('id').where('id', '=', parcelId);
  if (ownedBy !== undefined) query = query.where('created_by', '=', ownedBy);
  const parcel = await query.executeTakeFirst();
  if (!parcel) throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
  const rows = await ctx.db
    .selectFrom('notifications as n')
    .innerJoin('grants as g', 'g.jti', 'n.grant_jti')
    .select(['n.id', 'n.kind', 'n.recipient', 'n.created_at', 'n.grant_jti', 'g.token'])
    .where('n.parcel_id', '=', parcelId)
    .orderBy('n.created_at')
    .execute();
  return rows.map((n) => ({
    id: n.id,
    kind: n.kind,
    to: JSON.parse(n.recipient) as ParcelView['recipient'],
    createdAt: n.created_at,
    code: { pin: derivePin(ctx.pinSecret, n.grant_jti, ctx.config.pinLength, ctx.config.pinAlphabet), qr: n.token },
  }));
}
