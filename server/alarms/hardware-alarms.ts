/**
 * A locker's lock boards (issue 15): one `hardware_fault` alarm per board that does not answer, keyed by the
 * board named in its detail (alarms are otherwise one per locker, compartment and kind). A repeat while it is
 * unresolved counts up; `hardware.recovered` from the same board resolves it as `system`.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

const SYSTEM_ACTOR = 'system';

async function unresolvedOfBoard(trx: Transaction<Database>, lockerId: string, kind: string, board: string): Promise<string | undefined> {
  const rows = await trx.selectFrom('alarms').select(['id', 'detail']).where('locker_id', '=', lockerId).where('kind', '=', kind).where('state', '!=', 'resolved').execute();
  return rows.find((r) => {
    try {
      return (JSON.parse(r.detail ?? '{}') as { board?: unknown }).board === board;
    } catch {
      return false;
    }
  })?.id;
}

export async function applyBoardAlarm(
  trx: Transaction<Database>,
  a: { lockerId: string; kind: string; action: 'raise' | 'resolve'; board: string; at: number; detail: Record<string, unknown> },
): Promise<void> {
  const id = await unresolvedOfBoard(trx, a.lockerId, a.kind, a.board);
  if (a.action === 'resolve') {
    if (id) await trx.updateTable('alarms').set({ state: 'resolved', resolved_at: a.at, resolved_by: SYSTEM_ACTOR, note: `${a.board} answers again` }).where('id', '=', id).execute();
    return;
  }
  const detail = JSON.stringify(a.detail);
  if (id) {
    await trx
      .updateTable('alarms')
      .set((eb) => ({ count: eb('count', '+', 1), last_at: a.at, detail }))
      .where('id', '=', id)
      .execute();
    return;
  }
  await trx
    .insertInto('alarms')
    .values({ id: `al_${randomUUID().replaceAll('-', '')}`, locker_id: a.lockerId, compartment_id: null, parcel_id: null, kind: a.kind, state: 'open', count: 1, first_at: a.at, last_at: a.at, detail })
    .execute();
}
