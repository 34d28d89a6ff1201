import { sql, type Transaction } from 'kysely';
import type { DeviceEvent } from '../../shared/messages.js';
import type { Database } from '../store/schema.js';
import { lockersInIdOrder } from '../store/lock-order.js';
import type { EventBatch } from './handle-events.js';

/** What one group's statement wrote and found. */
export interface GroupWritten {
  /** Per locker, the seqs that were new (not committed before, nor earlier in this statement). */
  fresh: Map<string, Set<number>>;
  /** With `checkWaiting`: lockers with new events and a cancelled parcel waiting for its compartment's release. */
  waiting: string[];
}

/**
 * A group's events on Postgres, in one statement and one round trip: the rows inserted (each column as one array,
 * unnested into rows, so the SQL is the same whatever the group's size, nothing to compile per size), the group's
 * lockers marked seen, and, with `checkWaiting`, which lockers with new events wait for a release (only when no
 * event of the group can change a parcel: otherwise the caller looks after the events' effects).
 */
export async function writeGroupPg(
  trx: Transaction<Database>,
  group: readonly EventBatch[],
  o: { seenAt: number; lockers: string[]; checkWaiting: boolean },
): Promise<GroupWritten> {
  const c = { locker: [] as string[], received: [] as number[], ...eventColumns() };
  // Rows in (locker, seq) order, whatever order the batches came in: two processes inserting rows of the same
  // lockers take the row locks in one order, so this insert does not deadlock with another's. (Other statements of
  // the group may still; Postgres then fails one group, whose batches get no ack and come again.)
  const rows: { lockerId: string; receivedAt: number; e: EventBatch['events'][number] }[] = [];
  for (const { lockerId, receivedAt, events } of group) for (const e of events) rows.push({ lockerId, receivedAt, e });
  rows.sort((x, y) => (x.lockerId < y.lockerId ? -1 : x.lockerId > y.lockerId ? 1 : x.e.seq - y.e.seq));
  for (const { lockerId, receivedAt, e } of rows) {
    c.locker.push(lockerId);
    c.received.push(receivedAt);
    pushEvent(c, e);
  }
  // A data-modifying WITH runs whether or not the query reads it (the update of last_seen_at). Its rows are locked
  // first, in id order (`locked`): an update by `id = any(...)` locks in the planner's order, and two processes'
  // groups deadlocked on it (38 deadlocks in the 11.11 run at 2,000 lockers on two processes). The insert waits for
  // those locks (its `where` reads `locked` once, before its first row), as the single-batch path does: a batch
  // handled by two processes at once then queues on its locker instead of holding event rows. The waiting test is
  // handle-events.ts' awaitingRelease (and release-compartments.ts' anyWaiting): change them together.
  const result = await sql<{ locker_id: string; seq: string | number; waiting: boolean }>`
    with locked as materialized (
      ${lockersInIdOrder(o.lockers)}
    ), ins as (
      insert into device_events (locker_id, received_at, seq, event_id, boot_id, device_at, type, body)
      select * from unnest(${c.locker}::text[], ${c.received}::bigint[], ${c.seq}::bigint[], ${c.id}::text[], ${c.bootId}::text[], ${c.at}::bigint[], ${c.type}::text[], ${c.body}::text[])
      where (select count(*) from locked) >= 0
      on conflict (locker_id, seq) do nothing
      returning locker_id, seq
    ), seen as (
      update lockers set last_seen_at = ${o.seenAt} from locked where lockers.id = locked.id
    )
    select locker_id, seq, false as waiting from ins
    union all
    select distinct p.locker_id, 0::bigint, true from parcels p
    where ${o.checkWaiting}::boolean and p.locker_id in (select locker_id from ins) and p.status = 'cancelled' and p.release_version is not null`.execute(trx);
  const fresh = new Map<string, Set<number>>();
  const waiting: string[] = [];
  for (const r of result.rows) {
    if (r.waiting) {
      waiting.push(r.locker_id);
      continue;
    }
    let seqs = fresh.get(r.locker_id);
    if (!seqs) fresh.set(r.locker_id, (seqs = new Set()));
    seqs.add(Number(r.seq));
  }
  return { fresh, waiting };
}

/** A device_events row's columns that come from the event itself, one array each (a type: query helpers take it). */
export type EventColumns = {
  seq: number[];
  id: string[];
  bootId: string[];
  at: number[];
  type: string[];
  body: string[];
};

export const eventColumns = (): EventColumns => ({ seq: [], id: [], bootId: [], at: [], type: [], body: [] });

export function pushEvent(c: EventColumns, e: DeviceEvent): void {
  c.seq.push(e.seq);
  c.id.push(e.id);
  c.bootId.push(e.bootId);
  c.at.push(e.at);
  c.type.push(e.type);
  c.body.push(JSON.stringify(e));
}

/** The seqs of `batch` that were new, taken out of the group's: a second copy of the batch in the group finds none. */
export function takeFresh(fresh: Map<string, Set<number>>, batch: EventBatch): Set<number> {
  const seqs = fresh.get(batch.lockerId);
  const mine = new Set<number>();
  for (const e of batch.events) if (seqs?.delete(e.seq)) mine.add(e.seq);
  return mine;
}
