import { prepareQuery } from '../store/prepared-query.js';
import { addHistory } from './unit-of-work.js';
/** Is any cancelled parcel of the locker waiting for its compartment's release? Run on every state report. */
const anyWaiting = prepareQuery((db, a) => db.selectFrom('parcels').select('id').where('locker_id', '=', a.lockerId).where('status', '=', 'cancelled').where('release_version', 'is not', null).limit(1));
/**
 * Frees the compartments of cancelled parcels once it is safe: the locker has applied the version that revoked
 * their grants, and the server has committed every event the locker recorded up to then, so any use of those
 * grants made offline is known. Call inside the transaction that changed either fact.
 */
export async function releaseConfirmed(trx, lockerId, now) {
    // The usual case, nothing waits for release: an indexed look-up (parcels_locker) instead of counting the
    // locker's committed events, a range that grows with its history, on every batch and heartbeat.
    const waiting = await anyWaiting.run(trx, { lockerId });
    if (waiting.rows.length === 0)
        return 0;
    const locker = await trx.selectFrom('lockers').select(['reported_version', 'reported_seq']).where('id', '=', lockerId).executeTakeFirst();
    if (!locker)
        return 0;
    const committed = await trx
        .selectFrom('device_events')
        .select((eb) => eb.fn.count('seq').as('n'))
        .where('locker_id', '=', lockerId)
        .where('seq', '<=', locker.reported_seq)
        .executeTakeFirstOrThrow();
    // Seqs start at 1 without gaps: all of 1..reported_seq are committed when there are reported_seq of them.
    if (Number(committed.n) < locker.reported_seq)
        return 0;
    const ready = await trx
        .selectFrom('parcels')
        .select(['id', 'compartment_id'])
        .where('locker_id', '=', lockerId)
        .where('status', '=', 'cancelled')
        .where('release_version', '<=', locker.reported_version)
        // A grant of the parcel was used: a door session may still be going on (the parcel may be in). Such a
        // compartment waits for the device's word (a deposit reconciles the parcel) or an operator.
        .where((eb) => eb.not(eb.exists(eb.selectFrom('grants').select('jti').whereRef('grants.parcel_id', '=', 'parcels.id').where('grants.uses', '>', 0))))
        .execute();
    for (const p of ready) {
        await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('parcel_id', '=', p.id).execute();
        await trx.updateTable('parcels').set({ release_version: null, updated_at: now }).where('id', '=', p.id).execute();
        await addHistory(trx, { parcelId: p.id, at: now, type: 'compartment.released', status: 'cancelled', source: 'device', sourceRef: `${lockerId}@v${locker.reported_version}`, detail: { compartmentId: p.compartment_id } });
    }
    return ready.length;
}
//# sourceMappingURL=release-compartments.js.map