import type { LockerListItem } from '../../shared/api/fleet-listing.js';
import type { Db } from '../store/database.js';
import { allLockers, type LockerFilter } from './locker-list.js';

const HEADER = ['id', 'name', 'state', 'lat', 'lon', 'last_seen', 'compartments', 'in_use', 'out_of_service', 'unresolved_alarms'];

/** A CSV field: quoted when it holds a quote, comma or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function lockerCsvLine(l: LockerListItem): string {
  const lastSeen = l.lastSeenAt === null ? null : new Date(l.lastSeenAt).toISOString();
  return [l.id, l.name, l.state, l.location.lat, l.location.lon, lastSeen, l.occupancy.total, l.occupancy.inUse, l.occupancy.outOfService, l.alarms.open + l.alarms.acknowledged].map(csvField).join(',') + '\r\n';
}

/** The CSV of every locker the filter matches, a page of lines at a time. */
export async function* lockersCsv(db: Db, filter: LockerFilter): AsyncGenerator<string> {
  yield HEADER.join(',') + '\r\n';
  for await (const page of allLockers(db, filter)) yield page.map(lockerCsvLine).join('');
}
