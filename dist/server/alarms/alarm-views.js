export function alarmView(a) {
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
        detail: a.detail ? JSON.parse(a.detail) : null,
        acknowledgedAt: a.acknowledged_at,
        acknowledgedBy: a.acknowledged_by,
        resolvedAt: a.resolved_at,
        resolvedBy: a.resolved_by,
        note: a.note,
    };
}
/** Alarms, most recent first. */
export async function readAlarms(db, f = {}) {
    let q = db.selectFrom('alarms').selectAll().orderBy('last_at', 'desc').orderBy('id').limit(f.limit ?? 1000);
    if (f.lockerId)
        q = q.where('locker_id', '=', f.lockerId);
    if (f.state)
        q = q.where('state', '=', f.state);
    if (f.kind)
        q = q.where('kind', '=', f.kind);
    return (await q.execute()).map(alarmView);
}
/** SQLite bounds the parameters of one statement: long id lists are read in chunks. */
const CHUNK = 500;
/** The alarms not yet resolved of some lockers, or of all (what the dashboard shows and the live stream sends). */
export async function readUnresolvedAlarms(db, lockerIds) {
    const read = async (ids) => {
        let q = db.selectFrom('alarms').selectAll().where('state', '!=', 'resolved').orderBy('last_at', 'desc').orderBy('id');
        if (ids)
            q = q.where('locker_id', 'in', ids);
        return (await q.execute()).map(alarmView);
    };
    if (lockerIds === undefined)
        return read();
    const out = [];
    for (let i = 0; i < lockerIds.length; i += CHUNK)
        out.push(...(await read(lockerIds.slice(i, i + CHUNK))));
    return out;
}
//# sourceMappingURL=alarm-views.js.map