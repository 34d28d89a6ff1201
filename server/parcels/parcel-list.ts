import type { ParcelQuery, ParcelView } from '../../shared/api/parcels.js';
import type { Page } from '../../shared/api/listing.js';
import type { Db } from '../store/database.js';
import { decodeCursor, encodeCursor, querySignature } from '../http/page-cursor.js';
import { parcelView } from './parcel-views.js';

export const PARCEL_PAGE_DEFAULT = 50;
export const PARCEL_PAGE_MAX = 500;

export type ParcelFilter = Omit<ParcelQuery, 'limit' | 'cursor'>;

/**
 * A page of parcels, newest first (created_at, then id, both descending): keyset on indexes that start with the
 * owner, status or locker and go on with created_at (migration 017). `ownedBy` limits it to a carrier's parcels.
 */
export async function listParcels(db: Db, f: ParcelFilter, limit: number, cursor: string | undefined, ownedBy?: string): Promise<Page<ParcelView>> {
  const signature = querySignature({ ...f, ownedBy: ownedBy ?? null });
  const after = decodeCursor(cursor, signature);
  let q = db.selectFrom('parcels').selectAll();
  if (ownedBy !== undefined) q = q.where('created_by', '=', ownedBy);
  if (f.reference) q = q.where('reference', '=', f.reference);
  if (f.referencePrefix) q = q.where('reference', '>=', f.referencePrefix).where('reference', '<', `${f.referencePrefix}\u{10FFFF}`);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.lockerId) q = q.where('locker_id', '=', f.lockerId);
  if (f.createdFrom) q = q.where('created_at', '>=', Number(f.createdFrom));
  if (f.createdTo) q = q.where('created_at', '<', Number(f.createdTo));
  if (after) {
    const at = Number(after.v);
    q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', after.id)])]));
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(parcelView), nextCursor: rows.length > limit && last ? encodeCursor(signature, { v: last.created_at, id: last.id }) : null };
}
