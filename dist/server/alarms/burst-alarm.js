import { randomUUID } from 'node:crypto';
import { REMOTE_OPEN_BURST_ALARM } from '../../shared/api/alarms.js';
/** The unresolved burst alarm with this key among some alarm rows, by the key kept in their detail. */
export function findBurstAlarm(rows, key) {
    for (const r of rows) {
        if (!r.detail)
            continue;
        const detail = JSON.parse(r.detail);
        if (detail.key === key)
            return r.id;
    }
    return null;
}
/**
 * Raises a `remote_open_burst` alarm, or counts up the unresolved one with the same key (its detail and locker
 * move to the newest attempt). Returns its id and whether it is new. Once resolved, a new burst raises a new one.
 */
export async function raiseBurstAlarm(db, a) {
    const open = await db.selectFrom('alarms').select(['id', 'detail', 'locker_id']).where('kind', '=', REMOTE_OPEN_BURST_ALARM).where('state', '!=', 'resolved').execute();
    const detail = JSON.stringify({ ...a.detail, key: a.key });
    const existing = findBurstAlarm(open, a.key);
    if (existing) {
        const before = open.find((r) => r.id === existing)?.locker_id ?? a.lockerId;
        await db
            .updateTable('alarms')
            .set((eb) => ({ count: eb('count', '+', 1), last_at: a.at, detail, locker_id: a.lockerId, compartment_id: a.compartmentId }))
            .where('id', '=', existing)
            .execute();
        return { id: existing, raised: false, lockerIds: [...new Set([before, a.lockerId])] };
    }
    const id = `al_${randomUUID().replaceAll('-', '')}`;
    await db
        .insertInto('alarms')
        .values({ id, locker_id: a.lockerId, compartment_id: a.compartmentId, parcel_id: null, kind: REMOTE_OPEN_BURST_ALARM, state: 'open', count: 1, first_at: a.at, last_at: a.at, detail })
        .execute();
    return { id, raised: true, lockerIds: [a.lockerId] };
}
//# sourceMappingURL=burst-alarm.js.map