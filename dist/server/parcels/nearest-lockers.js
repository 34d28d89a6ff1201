import { COMPARTMENT_SIZES, sizeRank } from '../../shared/compartment-sizes.js';
/** Distance between two points on the Earth, in metres (haversine). */
function distanceM(a, b) {
    const rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad;
    const dLon = (b.lon - a.lon) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    return Math.round(2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h))));
}
/** The nearest other lockers with a free in-service compartment that fits `size`, closest first. */
export async function nearestWithSpace(trx, lockerId, size, limit = 3) {
    const origin = await trx.selectFrom('lockers').select(['lat', 'lon']).where('id', '=', lockerId).executeTakeFirst();
    if (!origin)
        return [];
    const fitting = COMPARTMENT_SIZES.filter((s) => sizeRank(s) >= sizeRank(size));
    const rows = await trx
        .selectFrom('lockers as l')
        .innerJoin('compartments as c', 'c.locker_id', 'l.id')
        .select(['l.id', 'l.name', 'l.lat', 'l.lon'])
        .where('l.id', '!=', lockerId)
        .where('c.parcel_id', 'is', null)
        .where('c.in_service', '=', 1)
        .where('c.size', 'in', fitting)
        .groupBy(['l.id', 'l.name', 'l.lat', 'l.lon'])
        .execute();
    return rows
        .map((r) => ({ lockerId: r.id, name: r.name, distanceM: distanceM(origin, r) }))
        .sort((a, b) => a.distanceM - b.distanceM)
        .slice(0, limit);
}
//# sourceMappingURL=nearest-lockers.js.map