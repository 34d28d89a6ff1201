import type { Static } from '@sinclair/typebox';
import type { CompartmentState, LockerView, TelemetryView } from '../../shared/api/lockers.js';
import type { ParcelStatus } from '../../shared/api/parcels.js';
import type { Db } from '../store/database.js';
import type { LockerRow } from '../store/schema.js';

function telemetryView(l: Pick<LockerRow, 'telemetry_at' | 'firmware_version' | 'temperature_c' | 'power_source' | 'battery_pct'>): TelemetryView {
  if (l.telemetry_at === null) return null;
  return {
    at: Number(l.telemetry_at),
    firmwareVersion: l.firmware_version,
    temperatureC: l.temperature_c,
    power: l.power_source ? { source: l.power_source, batteryPct: l.battery_pct } : null,
  };
}

/** A held compartment is occupied once its parcel is in, reserved before (or while a cancellation is confirmed). */
export function compartmentState(inService: boolean, parcelStatus: ParcelStatus | null): Static<typeof CompartmentState> {
  if (parcelStatus === 'in_locker' || parcelStatus === 'expired') return 'occupied';
  if (parcelStatus !== null) return 'reserved';
  return inService ? 'free' : 'out_of_service';
}

/** Lockers with their compartments and each compartment's state, derived from the parcel it holds. */
export async function readLockers(db: Db, lockerId?: string | readonly string[]): Promise<LockerView[]> {
  if (Array.isArray(lockerId)) {
    if (lockerId.length === 0) return [];
    return readSome(db, lockerId);
  }
  return readSome(db, lockerId as string | undefined);
}

async function readSome(db: Db, lockerId: string | readonly string[] | undefined): Promise<LockerView[]> {
  let lockersQuery = db.selectFrom('lockers').selectAll().orderBy('created_at').orderBy('id');
  let compQuery = db
    .selectFrom('compartments as c')
    .leftJoin('parcels as p', 'p.id', 'c.parcel_id')
    .select(['c.locker_id', 'c.id', 'c.size', 'c.in_service', 'c.parcel_id', 'p.status'])
    .orderBy('c.locker_id')
    .orderBy('c.id');
  // A retired locker (issue 16) is read by its id only: it is not part of the fleet.
  if (lockerId === undefined) lockersQuery = lockersQuery.where('retired_at', 'is', null);
  if (typeof lockerId === 'string') {
    lockersQuery = lockersQuery.where('id', '=', lockerId);
    compQuery = compQuery.where('c.locker_id', '=', lockerId);
  } else if (lockerId !== undefined) {
    lockersQuery = lockersQuery.where('id', 'in', lockerId);
    compQuery = compQuery.where('c.locker_id', 'in', lockerId);
  }
  let eventsQuery = db
    .selectFrom('device_events')
    .select((eb) => ['locker_id', eb.fn.countAll<number>().as('received'), eb.fn.max('seq').as('last_seq')])
    .groupBy('locker_id');
  if (typeof lockerId === 'string') eventsQuery = eventsQuery.where('locker_id', '=', lockerId);
  else if (lockerId !== undefined) eventsQuery = eventsQuery.where('locker_id', 'in', lockerId);
  const [lockers, compartments, events] = await Promise.all([lockersQuery.execute(), compQuery.execute(), eventsQuery.execute()]);
  const eventsByLocker = new Map(events.map((e) => [e.locker_id, { received: Number(e.received), lastSeq: Number(e.last_seq) }]));
  const byLocker = new Map<string, LockerView['compartments']>();
  for (const c of compartments) {
    const list = byLocker.get(c.locker_id) ?? [];
    list.push({
      id: c.id,
      size: c.size,
      inService: c.in_service === 1,
      state: compartmentState(c.in_service === 1, c.status),
      parcelId: c.parcel_id,
    });
    byLocker.set(c.locker_id, list);
  }
  return lockers.map((l: LockerRow) => ({
    id: l.id,
    name: l.name,
    location: { lat: l.lat, lon: l.lon },
    online: l.online === 1,
    lastSeenAt: l.last_seen_at,
    desiredVersion: l.desired_version,
    reportedVersion: l.reported_version,
    events: eventsByLocker.get(l.id) ?? { received: 0, lastSeq: 0 },
    compartments: byLocker.get(l.id) ?? [],
    telemetry: telemetryView(l),
  }));
}
