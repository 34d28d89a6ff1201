import { COMPARTMENT_SIZES } from '../../shared/compartment-sizes.js';
import { compartmentState } from '../lockers/locker-views.js';
const emptyCounts = () => ({ free: 0, reserved: 0, occupied: 0, out_of_service: 0 });
/** SQLite allows a bounded number of parameters per statement: read large id lists in chunks. */
const CHUNK = 500;
async function inChunks(ids, read) {
    if (ids === undefined)
        return read(undefined);
    const out = [];
    for (let i = 0; i < ids.length; i += CHUNK)
        out.push(...(await read(ids.slice(i, i + CHUNK))));
    return out;
}
/** Summaries of every locker, or of the given ones (unknown ids are skipped), in registration order. */
export async function readFleet(db, lockerIds) {
    if (lockerIds !== undefined && lockerIds.length === 0)
        return [];
    const lockers = await inChunks(lockerIds, (ids) => {
        let q = db.selectFrom('lockers').select(['id', 'name', 'lat', 'lon', 'online', 'last_seen_at']).orderBy('created_at').orderBy('id');
        if (ids)
            q = q.where('id', 'in', ids);
        return q.execute();
    });
    const compartments = await inChunks(lockerIds, (ids) => {
        let q = db.selectFrom('compartments as c').leftJoin('parcels as p', 'p.id', 'c.parcel_id').select(['c.locker_id', 'c.size', 'c.in_service', 'p.status']);
        if (ids)
            q = q.where('c.locker_id', 'in', ids);
        return q.execute();
    });
    const alarms = await inChunks(lockerIds, (ids) => {
        let q = db
            .selectFrom('alarms')
            .select((eb) => ['locker_id', 'state', eb.fn.countAll().as('n')])
            .where('state', '!=', 'resolved')
            .groupBy(['locker_id', 'state']);
        if (ids)
            q = q.where('locker_id', 'in', ids);
        return q.execute();
    });
    const occupancy = new Map();
    for (const c of compartments) {
        const bySize = occupancy.get(c.locker_id) ?? {};
        const counts = (bySize[c.size] ??= emptyCounts());
        counts[compartmentState(c.in_service === 1, c.status)]++;
        occupancy.set(c.locker_id, bySize);
    }
    const alarmCounts = new Map();
    for (const a of alarms) {
        const counts = alarmCounts.get(a.locker_id) ?? { open: 0, acknowledged: 0 };
        if (a.state === 'open' || a.state === 'acknowledged')
            counts[a.state] += Number(a.n);
        alarmCounts.set(a.locker_id, counts);
    }
    return lockers.map((l) => ({
        id: l.id,
        name: l.name,
        location: { lat: l.lat, lon: l.lon },
        online: l.online === 1,
        lastSeenAt: l.last_seen_at,
        occupancy: sortedSizes(occupancy.get(l.id) ?? {}),
        alarms: alarmCounts.get(l.id) ?? { open: 0, acknowledged: 0 },
    }));
}
function sortedSizes(bySize) {
    const out = {};
    for (const size of COMPARTMENT_SIZES)
        if (bySize[size])
            out[size] = bySize[size];
    return out;
}
/** Totals over summaries: lockers online and offline, compartments by state, unresolved alarms. */
export function fleetTotals(lockers) {
    const totals = { lockers: 0, online: 0, offline: 0, compartments: emptyCounts(), alarms: { open: 0, acknowledged: 0 } };
    for (const l of lockers) {
        totals.lockers++;
        if (l.online)
            totals.online++;
        else
            totals.offline++;
        for (const counts of Object.values(l.occupancy)) {
            totals.compartments.free += counts.free;
            totals.compartments.reserved += counts.reserved;
            totals.compartments.occupied += counts.occupied;
            totals.compartments.out_of_service += counts.out_of_service;
        }
        totals.alarms.open += l.alarms.open;
        totals.alarms.acknowledged += l.alarms.acknowledged;
    }
    return totals;
}
//# sourceMappingURL=fleet-views.js.map