import { HOUR_MS, MAX_HISTORY_HOURS, type HistoryView, type HourCounts } from '../../shared/api/history.js';
import type { Db } from '../store/database.js';
import { LockstepError } from '../errors.js';
import { FLEET_SCOPE } from './occupancy-sampler.js';

export const hourOf = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS;

export interface HistoryRange {
  from: number;
  to: number;
}

/** The range asked for, on hour boundaries; at most MAX_HISTORY_HOURS, and `from` before `to`. */
export function historyRange(now: number, from?: number, to?: number): HistoryRange {
  const end = to === undefined ? hourOf(now) + HOUR_MS : Math.ceil(to / HOUR_MS) * HOUR_MS;
  const start = from === undefined ? end - 24 * HOUR_MS : hourOf(from);
  if (start >= end || (end - start) / HOUR_MS > MAX_HISTORY_HOURS) {
    throw new LockstepError('HISTORY_RANGE_INVALID', { from: start, to: end, maxHours: MAX_HISTORY_HOURS });
  }
  return { from: start, to: end };
}

/**
 * Per-hour counters and occupancy of a locker (or the fleet, summed over the lockers' hourly rows of the range),
 * read from the aggregates migration 017's triggers and the occupancy sampler keep: never from the events.
 */
export async function readHistory(db: Db, lockerId: string | null, r: HistoryRange, now?: number): Promise<HistoryView> {
  let counts = db
    .selectFrom('locker_hourly')
    .select((eb) => [
      'hour',
      eb.fn.sum<number>('bookings').as('bookings'),
      eb.fn.sum<number>('deposits').as('deposits'),
      eb.fn.sum<number>('pickups').as('pickups'),
      eb.fn.sum<number>('expiries').as('expiries'),
      eb.fn.sum<number>('alarms').as('alarms'),
    ])
    .where('hour', '>=', r.from)
    .where('hour', '<', r.to)
    .groupBy('hour');
  if (lockerId !== null) counts = counts.where('locker_id', '=', lockerId);
  const scope = lockerId ?? FLEET_SCOPE;
  const [rows, samples, before] = await Promise.all([
    counts.execute(),
    db.selectFrom('occupancy_samples').selectAll().where('scope', '=', scope).where('hour', '>=', r.from).where('hour', '<', r.to).orderBy('hour').execute(),
    lastSampleBefore(db, scope, r.from),
  ]);
  const byHour = new Map(rows.map((row) => [Number(row.hour), row]));
  const samplesByHour = new Map<number, typeof samples>();
  for (const s of samples) samplesByHour.set(Number(s.hour), [...(samplesByHour.get(Number(s.hour)) ?? []), s]);
  let occupancy: HourCounts['occupancy'] = {};
  for (const s of before) occupancy[s.size] = { inUse: s.in_use, total: s.total };
  const hours: HourCounts[] = [];
  for (let h = r.from; h < r.to; h += HOUR_MS) {
    const sampled = samplesByHour.get(h);
    if (sampled) occupancy = Object.fromEntries(sampled.map((s) => [s.size, { inUse: s.in_use, total: s.total }]));
    const c = byHour.get(h);
    hours.push({
      hour: h,
      bookings: Number(c?.bookings ?? 0),
      deposits: Number(c?.deposits ?? 0),
      pickups: Number(c?.pickups ?? 0),
      expiries: Number(c?.expiries ?? 0),
      alarms: Number(c?.alarms ?? 0),
      occupancy,
    });
  }
  // A locker's current hour shows its occupancy now (it may have come after the hour's sample, or changed since).
  const last = hours[hours.length - 1];
  if (lockerId !== null && last && now !== undefined && hourOf(now) === last.hour) last.occupancy = await currentOccupancy(db, lockerId);
  return { lockerId, from: r.from, to: r.to, hours };
}

async function currentOccupancy(db: Db, lockerId: string): Promise<HourCounts['occupancy']> {
  const rows = await db
    .selectFrom('compartments')
    .select((eb) => ['size', eb.fn.sum<number>(eb.case().when('parcel_id', 'is not', null).then(1).else(0).end()).as('in_use'), eb.fn.countAll<number>().as('total')])
    .where('locker_id', '=', lockerId)
    .groupBy('size')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.size, { inUse: Number(r.in_use), total: Number(r.total) }]));
}

async function lastSampleBefore(db: Db, scope: string, at: number) {
  const last = await db.selectFrom('occupancy_samples').select('hour').where('scope', '=', scope).where('hour', '<', at).orderBy('hour', 'desc').limit(1).executeTakeFirst();
  if (!last) return [];
  return db.selectFrom('occupancy_samples').selectAll().where('scope', '=', scope).where('hour', '=', last.hour).execute();
}
