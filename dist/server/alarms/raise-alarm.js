import { randomUUID } from 'node:crypto';
/** Raises an alarm once: a repeat of an open (or acknowledged) alarm of the same kind counts up instead. */
export async function raiseAlarm(trx, a) {
    const compartmentId = a.compartmentId ?? null;
    let q = trx
        .selectFrom('alarms')
        .select('id')
        .where('locker_id', '=', a.lockerId)
        .where('kind', '=', a.kind)
        .where('state', '!=', 'resolved');
    q = compartmentId === null ? q.where('compartment_id', 'is', null) : q.where('compartment_id', '=', compartmentId);
    const existing = await q.executeTakeFirst();
    const detail = a.detail ? JSON.stringify(a.detail) : null;
    if (existing) {
        await trx
            .updateTable('alarms')
            .set((eb) => ({ count: eb('count', '+', 1), last_at: a.at, detail }))
            .where('id', '=', existing.id)
            .execute();
        return;
    }
    await trx
        .insertInto('alarms')
        .values({
        id: `al_${randomUUID().replaceAll('-', '')}`,
        locker_id: a.lockerId,
        compartment_id: compartmentId,
        parcel_id: a.parcelId ?? null,
        kind: a.kind,
        state: 'open',
        count: 1,
        first_at: a.at,
        last_at: a.at,
        detail,
    })
        .execute();
}
//# sourceMappingURL=raise-alarm.js.map