import { sql, type Transaction } from 'kysely';
import { lockersInIdOrder } from '../store/lock-order.js';
import type { Database } from '../store/schema.js';
import { holdsParcels } from '../parcels/pickup-window.js';

/** What the status statement found for one locker (the last status of the group for it). */
export interface StatusRow {
  unavailable: boolean;
  holdsParcels: boolean;
  /** Whether a command for the locker is still pending (to send again when it is back online). */
  pendingCommands: boolean;
}

/**
 * A group's statuses on Postgres, in one statement and one round trip instead of one update each (a power cut's
 * thousands of wills and reconnects held a group's transaction for seconds, one round trip per status): each
 * locker's last status of the group (`finals`, one per locker) written, its row locked in id order first as every
 * writer does (lock-order.ts), and for each whether it counts as unavailable, whether it holds parcels and whether a
 * command for it is pending; for a locker holding no parcel, its outage kept in the same statement: the answers and
 * effects of locker-reports.ts' `recordStatus` on SQLite (change the two together).
 */
export async function writeStatusesPg(
  trx: Transaction<Database>,
  finals: readonly { lockerId: string; online: boolean; bootId: string }[],
  at: number,
): Promise<Map<string, StatusRow>> {
  const ids = finals.map((s) => s.lockerId);
  const closes = sql`(not h.holds and v.online = 1 and l.unavailable_since is not null)`;
  const result = await sql<{ id: string; unavailable: boolean; holds_parcels: boolean; pending_commands: boolean }>`
    with locked as materialized (
      ${lockersInIdOrder(ids)}
    )
    update lockers l set online = v.online, boot_id = v.boot_id, last_seen_at = ${at}::bigint,
      -- Every SET reads the row as it was before the statement.
      unavailable_since = case when h.holds then l.unavailable_since when v.online = 1 then null else coalesce(l.unavailable_since, ${at}::bigint) end,
      last_outage_from = case when ${closes} then l.unavailable_since else l.last_outage_from end,
      last_outage_to = case when ${closes} then ${at}::bigint else l.last_outage_to end
    from unnest(${ids}::text[], ${finals.map((s) => (s.online ? 1 : 0))}::int[], ${finals.map((s) => s.bootId)}::text[]) as v(id, online, boot_id)
      cross join lateral (select ${holdsParcels('v.id')} as holds) h
    where l.id = v.id and (select count(*) from locked) >= 0
    returning l.id, l.unavailable_since is not null as unavailable, h.holds as holds_parcels,
      exists (select 1 from commands c where c.locker_id = l.id and c.state = 'pending') as pending_commands`.execute(trx);
  return new Map(result.rows.map((r) => [r.id, { unavailable: r.unavailable, holdsParcels: r.holds_parcels, pendingCommands: r.pending_commands }]));
}
