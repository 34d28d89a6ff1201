/**
 * What-if replacement for server/sync/release-compartments.ts (patch "release-guard"): the same rule, but it
 * first asks whether the locker has any cancelled parcel waiting for release (an indexed lookup) and stops there
 * when it has none, the usual case. The shipped version counts the locker's committed events (a range that grows
 * with its history) on every event batch and heartbeat before it knows whether anything waits.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../../server/store/schema.js';

/** Marks this module as the what-if replacement (test/bench checks that the hooks load it). */
export const WHAT_IF_REPLACEMENT = true;

export async function releaseConfirmed(trx: Transaction<Database>, lockerId: string, now: number): Promise<number> {
  const waiting = await trx
    .selectFrom('parcels')
    .select('id')
    .where('locker_id', '=', lockerId)
    .where('status', '=', 'cancelled')
    .where('release_version', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  if (!waiting) return 0;
  const locker = await trx.selectFrom('lockers').select(['reported_version', 'reported_seq']).where('id', '=', lockerId).executeTakeFirst();
  if (!locker) return 0;
  const committed = await trx
    .selectFrom('device_events')
    .select((eb) => eb.fn.count<number>('seq').as('n'))
    .where('locker_id', '=', lockerId)
    .where('seq', '<=', locker.reported_seq)
    .executeTakeFirstOrThrow();
  if (Number(committed.n) < locker.reported_seq) return 0;
  const ready = await trx
    .selectFrom('parcels')
    .select(['id', 'compartment_id'])
    .where('locker_id', '=', lockerId)
    .where('status', '=', 'cancelled')
    .where('release_version', '<=', locker.reported_version)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('grants').select('jti').whereRef('grants.parcel_id', '=', 'parcels.id').where('grants.uses', '>', 0))))
    .execute();
  for (const p of ready) {
    await trx.updateTable('compartments').set({ parcel_id: null }).where('locker_id', '=', lockerId).where('parcel_id', '=', p.id).execute();
    await trx.updateTable('parcels').set({ release_version: null, updated_at: now }).where('id', '=', p.id).execute();
    await trx
      .insertInto('parcel_history')
      .values({ parcel_id: p.id, at: now, type: 'compartment.released', status: 'cancelled', source: 'device', source_ref: `${lockerId}@v${locker.reported_version}`, detail: JSON.stringify({ compartmentId: p.compartment_id }) })
      .execute();
  }
  return ready.length;
}
