import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { UnitOfWork } from '../desired-state/unit-of-work.js';

export interface AlarmInput {
  lockerId: string;
  compartmentId?: string | null;
  parcelId?: string | null;
  kind: string;
  at: number;
  detail?: Record<string, unknown>;
}

/**
 * Raises an alarm once: a repeat of an open (or acknowledged) alarm of the same kind counts up instead. Returns the
 * new alarm's id, or undefined when it counted up an alarm already raised.
 */
export async function raiseAlarm(trx: Transaction<Database>, a: AlarmInput): Promise<string | undefined> {
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
    return undefined;
  }
  const id = `al_${randomUUID().replaceAll('-', '')}`;
  await trx
    .insertInto('alarms')
    .values({
      id,
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
  return id;
}

/** `raiseAlarm` in a unit of work: a new alarm is announced once the transaction committed (server/domain-log.ts). */
export async function raiseAlarmInUnit(uow: UnitOfWork, a: AlarmInput): Promise<void> {
  const id = await raiseAlarm(uow.trx, a);
  if (id) uow.announce({ type: 'alarm.raised', alarmId: id, lockerId: a.lockerId, kind: a.kind, compartmentId: a.compartmentId ?? null, parcelId: a.parcelId ?? null });
}
