/**
 * What a locker reports about itself, other than events and heartbeats: its retained status (online / offline)
 * and `state/reported` (the desired version it applied). Each message was its own durable commit; the 10,000-locker
 * simulation spent most of the server's main thread in those fsyncs (one of them per status and per report).
 * Messages of the same turn now share one transaction (server/store/group-commit.ts, ctx.writers).
 */
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import { releaseConfirmed } from '../desired-state/release-compartments.js';
import { prepareQuery } from '../store/prepared-query.js';
import type { Database } from '../store/schema.js';
import { holdsParcels } from '../parcels/pickup-window.js';
import { writeStatusesPg, type StatusRow } from './status-group-pg.js';

export interface Report {
  lockerId: string;
  version: number;
  lastSeq: number;
}

export interface Status {
  lockerId: string;
  online: boolean;
  bootId: string;
}

/** Most statuses or reports in one transaction: bounds how long one commit holds the database. */
export const MAX_REPORT_GROUP = 500;

/** Reports may arrive out of order: an older one never moves the record back. */
const recordReport = prepareQuery((db, a: { lockerId: string; version: number; lastSeq: number; at: number }) =>
  db.updateTable('lockers').set({ reported_version: a.version, reported_seq: a.lastSeq, last_seen_at: a.at }).where('id', '=', a.lockerId).where('reported_version', '<=', a.version),
);

/**
 * After a status was written: whether the locker counts as unavailable (its pickup windows standing still) once
 * the statement is done (for a locker holding parcels: as it was, the presence hook moves it); undefined for a
 * locker the server does not know.
 */
export interface StatusWritten {
  unavailable: boolean;
  /** Whether a parcel is booked for the locker or lies in it (whose pickup window its outage concerns). */
  holdsParcels: boolean;
  /** Whether a command for the locker is still pending: sent again when the locker is back online. */
  pendingCommands: boolean;
  /** A later status of the same locker came in the same group: that one stands, this one changed nothing. */
  superseded: boolean;
}

/**
 * A locker's retained status (online, or offline by its will): one autocommit (one fsync) each before. The same
 * statement says whether the locker holds parcels (a power cut's thousands of offline statuses of lockers holding
 * none need no presence transaction, server/parcels/pickup-window.ts, four round trips each) and whether a command
 * for it is pending (most connects have none to send again: no query for them). For a locker holding no parcel, the
 * statement also keeps its outage itself (no window to pause or resume): offline starts it (`unavailable_since`),
 * online closes it into `last_outage_from/to`, which credits a parcel booked and deposited while it was offline.
 * A locker holding parcels keeps both for the presence hook. SQLite's path; Postgres writes a whole group in one
 * statement with the same answers (status-group-pg.ts): change the two together.
 */
const holds = holdsParcels('lockers.id');
const recordStatus = prepareQuery((db, a: { lockerId: string; online: number; bootId: string; at: number }) => {
  const closes = sql<boolean>`(not ${holds} and ${a.online} = 1 and unavailable_since is not null)`;
  return db
    .updateTable('lockers')
    .set({
      online: a.online,
      boot_id: a.bootId,
      last_seen_at: a.at,
      // SQLite's SET reads the row as it was before the statement, every column alike.
      unavailable_since: sql<number | null>`case when ${holds} then unavailable_since when ${a.online} = 1 then null else coalesce(unavailable_since, ${a.at}) end`,
      last_outage_from: sql<number | null>`case when ${closes} then unavailable_since else last_outage_from end`,
      last_outage_to: sql<number | null>`case when ${closes} then ${a.at} else last_outage_to end`,
    })
    .where('id', '=', a.lockerId)
    .returning((eb) => [
      'unavailable_since',
      holds.as('holds_parcels'),
      eb.exists(eb.selectFrom('commands as c').select('c.id').whereRef('c.locker_id', '=', 'lockers.id').where('c.state', '=', 'pending')).as('pending_commands'),
    ]);
});

/** A group of status messages, in the group's transaction (ctx.writers.statuses). */
export async function writeStatuses(ctx: ServerContext, trx: Transaction<Database>, group: readonly Status[]): Promise<(StatusWritten | undefined)[]> {
  const now = ctx.clock.now();
  // A locker's last status of the group is the one that stands (the group keeps each locker's items in order).
  const last = new Map<string, number>();
  group.forEach((st, i) => last.set(st.lockerId, i));
  const finals = [...last.values()].map((i) => group[i] as Status);
  let rows: Map<string, StatusRow>;
  if (trx.getExecutor().adapter instanceof PostgresAdapter) rows = await writeStatusesPg(trx, finals, now);
  else {
    rows = new Map();
    for (const st of finals) {
      const { rows: found } = await recordStatus.run(trx, { lockerId: st.lockerId, online: st.online ? 1 : 0, bootId: st.bootId, at: now });
      // SQLite answers EXISTS with 0 or 1.
      const r = found[0];
      if (r) rows.set(st.lockerId, { unavailable: r.unavailable_since !== null, holdsParcels: Boolean(r.holds_parcels), pendingCommands: Boolean(r.pending_commands) });
    }
  }
  return group.map((st, i) => {
    const row = rows.get(st.lockerId);
    return row ? { ...row, superseded: last.get(st.lockerId) !== i } : undefined;
  });
}

/** A group of state reports, in the group's transaction (ctx.writers.reports). */
export async function writeReports(ctx: ServerContext, trx: Transaction<Database>, group: readonly Report[]): Promise<void[]> {
  const now = ctx.clock.now();
  for (const r of group) {
    await recordReport.run(trx, { ...r, at: now });
    await releaseConfirmed(trx, r.lockerId, now);
  }
  return group.map(() => undefined);
}

/** A locker's status message, written with the others of its turn in one transaction. */
export function recordLockerStatus(ctx: ServerContext, status: Status): Promise<StatusWritten | undefined> {
  return ctx.writers.statuses.add(status);
}

/**
 * A locker's `state/reported`: the version it applied and the last event seq it had recorded by then; frees the
 * compartments this makes safe to release. Reports of the same turn share one transaction (one fsync): a
 * transaction per report was about a fifth of the server's commits in the 10,000-locker simulation. Rejects if
 * this report could not be written (the locker reports again with its next version or heartbeat cycle).
 */
export function recordStateReport(ctx: ServerContext, report: Report): Promise<void> {
  return ctx.writers.reports.add(report);
}
