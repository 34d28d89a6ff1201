import type { AlarmState, AlarmView } from '../../shared/api/alarms.js';
import { alarmSeverity, ALARM_SEVERITIES, KIND_SEVERITY, type AlarmSeverity } from '../../shared/api/alarm-severity.js';
import type { Page } from '../../shared/api/listing.js';
import { decodeCursor, encodeCursor, querySignature } from '../http/page-cursor.js';
import type { Db } from '../store/database.js';
import type { AlarmRow } from '../store/schema.js';

export function alarmView(a: AlarmRow): AlarmView {
  return {
    id: a.id,
    lockerId: a.locker_id,
    compartmentId: a.compartment_id,
    parcelId: a.parcel_id,
    kind: a.kind,
    state: a.state,
    count: a.count,
    firstAt: a.first_at,
    lastAt: a.last_at,
    detail: a.detail ? (JSON.parse(a.detail) as Record<string, unknown>) : null,
    acknowledgedAt: a.acknowledged_at,
    acknowledgedBy: a.acknowledged_by,
    resolvedAt: a.resolved_at,
    resolvedBy: a.resolved_by,
    note: a.note,
    severity: alarmSeverity(a.kind),
  };
}

export interface AlarmFilter {
  lockerId?: string;
  state?: AlarmState;
  kind?: string;
  severity?: AlarmSeverity;
  /** Raised before this time (ms). */
  firstBefore?: number;
}

export const ALARM_PAGE_DEFAULT = 100;
export const ALARM_PAGE_MAX = 1000;

/** The kinds of a severity among those the catalogue names (a `warning` filter also takes unknown kinds). */
function kindsOf(severity: AlarmSeverity): { in: string[] } | { notIn: string[] } {
  const known = Object.keys(KIND_SEVERITY);
  if (severity !== 'warning') return { in: known.filter((k) => alarmSeverity(k) === severity) };
  return { notIn: known.filter((k) => alarmSeverity(k) !== 'warning') };
}

/** A page of alarms, most recent first (last_at, then id, descending). */
export async function listAlarms(db: Db, f: AlarmFilter, limit: number, cursor?: string): Promise<Page<AlarmView>> {
  const signature = querySignature({ ...f });
  const after = decodeCursor(cursor, signature);
  let q = db.selectFrom('alarms').selectAll();
  if (f.lockerId) q = q.where('locker_id', '=', f.lockerId);
  if (f.state) q = q.where('state', '=', f.state);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.firstBefore !== undefined) q = q.where('first_at', '<', f.firstBefore);
  if (f.severity && ALARM_SEVERITIES.includes(f.severity)) {
    const kinds = kindsOf(f.severity);
    q = 'in' in kinds ? q.where('kind', 'in', kinds.in) : q.where('kind', 'not in', kinds.notIn);
  }
  if (after) {
    const at = Number(after.v);
    q = q.where((eb) => eb.or([eb('last_at', '<', at), eb.and([eb('last_at', '=', at), eb('id', '<', after.id)])]));
  }
  const rows = await q.orderBy('last_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(alarmView), nextCursor: rows.length > limit && last ? encodeCursor(signature, { v: last.last_at, id: last.id }) : null };
}

/** SQLite bounds the parameters of one statement: long id lists are read in chunks. */
const CHUNK = 500;

/** The alarms not yet resolved of some lockers, or of all (what the dashboard shows and the live stream sends). */
export async function readUnresolvedAlarms(db: Db, lockerIds?: readonly string[]): Promise<AlarmView[]> {
  const read = async (ids?: readonly string[]) => {
    let q = db.selectFrom('alarms').selectAll().where('state', '!=', 'resolved').orderBy('last_at', 'desc').orderBy('id');
    if (ids) q = q.where('locker_id', 'in', ids);
    return (await q.execute()).map(alarmView);
  };
  if (lockerIds === undefined) return read();
  const out: AlarmView[] = [];
  for (let i = 0; i < lockerIds.length; i += CHUNK) out.push(...(await read(lockerIds.slice(i, i + CHUNK))));
  return out;
}
