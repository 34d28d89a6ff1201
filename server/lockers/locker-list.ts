import { sql, type Expression, type SqlBool } from 'kysely';
import type { LockerListItem, LockerListQuery, LockerSort } from '../../shared/api/fleet-listing.js';
import type { Page, SortOrder } from '../../shared/api/listing.js';
import type { Db } from '../store/database.js';
import { COMPARTMENT_SIZES } from '../../shared/compartment-sizes.js';
import type { CompartmentCounts } from '../../shared/api/dashboard.js';
import type { CompartmentView } from '../../shared/api/lockers.js';
import { readLockers } from './locker-views.js';
import { decodeCursor, encodeCursor, querySignature, type CursorKey } from '../http/page-cursor.js';

export const LOCKER_PAGE_DEFAULT = 50;
export const LOCKER_PAGE_MAX = 500;

/** The column each sort orders by (with the id after it); each has an index that starts with it (migration 017). */
const SORT_COLUMNS: Record<LockerSort, Expression<unknown>> = {
  name: sql.ref('l.name'),
  state: sql.ref('l.online'),
  occupancy: sql.ref('r.occupancy_pm'),
  last_seen: sql`coalesce(l.last_seen_at, -1)`,
  open_alarms: sql.ref('r.open_alarms'),
};

export type LockerFilter = Omit<LockerListQuery, 'limit' | 'cursor'>;

/** One keyset page of lockers, filtered and sorted; `cursor` continues where the page before ended. */
export async function listLockers(db: Db, f: LockerFilter, limit: number, cursor?: string): Promise<Page<LockerListItem>> {
  const sort = f.sort ?? 'name';
  const order: SortOrder = f.order ?? 'asc';
  const signature = querySignature({ sort, order, state: f.state, name: f.name, q: f.q });
  const after = decodeCursor(cursor, signature);
  const rows = await pageRows(db, f, sort, order, limit + 1, after);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [views, alarms] = await Promise.all([readLockers(db, ids), alarmCounts(db, ids)]);
  const byId = new Map(views.map((v) => [v.id, v]));
  const items: LockerListItem[] = [];
  for (const r of page) {
    const v = byId.get(r.id);
    if (!v) continue;
    items.push({
      ...v,
      state: v.online ? 'online' : 'offline',
      occupancy: { inUse: r.in_use, total: r.compartments, outOfService: r.out_of_service, bySize: bySize(v.compartments) },
      alarms: alarms.get(r.id) ?? { open: 0, acknowledged: 0 },
    });
  }
  const last = page[page.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(signature, { v: last.sort_value, id: last.id }) : null };
}

/** Every locker the filter matches, page by page (the CSV export streams them). */
export async function* allLockers(db: Db, f: LockerFilter, pageSize = LOCKER_PAGE_MAX): AsyncGenerator<LockerListItem[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listLockers(db, f, pageSize, cursor);
    if (page.items.length) yield page.items;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

function pageRows(db: Db, f: LockerFilter, sort: LockerSort, order: SortOrder, limit: number, after: CursorKey | undefined) {
  const col = SORT_COLUMNS[sort];
  let q = db
    .selectFrom('lockers as l')
    .innerJoin('locker_rollups as r', 'r.locker_id', 'l.id')
    .select(['l.id', 'r.compartments', 'r.in_use', 'r.out_of_service', 'r.open_alarms', sql<string | number | null>`${col}`.as('sort_value')])
    // A retired locker (issue 16) is not part of the fleet: read it by its id only.
    .where('l.retired_at', 'is', null);
  if (f.state === 'online') q = q.where('l.online', '=', 1);
  if (f.state === 'offline') q = q.where('l.online', '=', 0);
  if (f.state === 'alarm') q = q.where('r.open_alarms', '>', 0);
  if (f.name) q = q.where('l.name', '>=', f.name).where('l.name', '<', `${f.name}\u{10FFFF}`);
  if (f.q) {
    const term = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([sql<SqlBool>`lower(l.name) like ${term} escape '\\'`, eb('l.id', '=', f.q!)]));
  }
  if (after) {
    const op = order === 'asc' ? '>' : '<';
    q = q.where((eb) => eb.or([eb(col, op, after.v), eb.and([eb(col, '=', after.v), eb('l.id', op, after.id)])]));
  }
  return q.orderBy(col, order).orderBy('l.id', order).limit(limit).execute();
}

function bySize(compartments: readonly CompartmentView[]): Record<string, CompartmentCounts> {
  const out: Record<string, CompartmentCounts> = {};
  for (const size of COMPARTMENT_SIZES) {
    for (const c of compartments) {
      if (c.size !== size) continue;
      const counts = (out[size] ??= { free: 0, reserved: 0, occupied: 0, out_of_service: 0 });
      counts[c.state as keyof CompartmentCounts]++;
    }
  }
  return out;
}

async function alarmCounts(db: Db, ids: readonly string[]): Promise<Map<string, { open: number; acknowledged: number }>> {
  const out = new Map<string, { open: number; acknowledged: number }>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('alarms')
    .select((eb) => ['locker_id', 'state', eb.fn.countAll<number>().as('n')])
    .where('locker_id', 'in', ids)
    .where('state', '!=', 'resolved')
    .groupBy(['locker_id', 'state'])
    .execute();
  for (const r of rows) {
    const c = out.get(r.locker_id) ?? { open: 0, acknowledged: 0 };
    if (r.state === 'open' || r.state === 'acknowledged') c[r.state] += Number(r.n);
    out.set(r.locker_id, c);
  }
  return out;
}
