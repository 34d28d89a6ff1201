import { sql, type Transaction } from 'kysely';
import { topics } from '../../shared/topics.js';
import { encode } from '../../shared/codec.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import type { DeviceConfig, StateChange, StateDeltaMessage, StateSnapshotMessage } from '../../shared/messages.js';
import type { Database } from '../store/schema.js';
import type { ServerContext } from '../context.js';
import { lockerPinKey } from '../codes/pins.js';
import { prepareQuery } from '../store/prepared-query.js';

/** Most revoked grant ids one snapshot carries (the StateSnapshotMessage schema's limit). */
const MAX_SNAPSHOT_REVOKED = 4096;

/**
 * Takes the locker's next desired-state version (undefined when there is no such locker), inside the caller's
 * transaction. Writers go through their unit of work (unit-of-work.ts), which also publishes the change after the
 * commit: the database is the truth, MQTT a cache.
 */
export async function takeDesiredVersion(trx: Transaction<Database>, lockerId: string): Promise<number | undefined> {
  const { rows } = await nextVersion.run(trx, { lockerId });
  return rows[0]?.desired_version;
}

// Compiled once (server/store/prepared-query.ts): these two run for every state change (booking groups take their
// versions together, `takeDesiredVersions`).
const nextVersion = prepareQuery((db, a: { lockerId: string }) =>
  db
    .updateTable('lockers')
    .set((eb) => ({ desired_version: eb('desired_version', '+', 1) }))
    .where('id', '=', a.lockerId)
    .returning('desired_version'),
);
const insertChanges = prepareQuery((db, a: { rows: { locker_id: string; version: number; changes: string; created_at: number }[] }) =>
  db.insertInto('desired_changes').values(a.rows),
);

/** A desired change: what it changes, under which version of which locker. */
export interface DesiredChange {
  lockerId: string;
  version: number;
  changes: StateChange[];
}

/** The change itself, under the version `takeDesiredVersion` gave. */
export async function recordDesiredChange(trx: Transaction<Database>, lockerId: string, version: number, changes: StateChange[], now: number): Promise<void> {
  await recordDesiredChanges(trx, [{ lockerId, version, changes }], now);
}

/** Several changes (a booking group's, of one or more lockers) in one insert, each under a version already taken. */
export async function recordDesiredChanges(trx: Transaction<Database>, all: readonly DesiredChange[], now: number): Promise<void> {
  if (all.length === 0) return;
  await insertChanges.run(trx, { rows: all.map((c) => ({ locker_id: c.lockerId, version: c.version, changes: JSON.stringify(c.changes), created_at: now })) });
}

/**
 * Takes `count` new desired-state versions of each locker in one statement (a booking group's: lockers whose rows
 * the transaction already holds); returns each locker's last new version (its first is last − count + 1).
 */
export async function takeDesiredVersions(trx: Transaction<Database>, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  if (counts.size === 0) return new Map();
  const ids = [...counts.keys()];
  const step = sql.join(
    [...counts].map(([id, n]) => sql`when ${id} then cast(${n} as integer)`),
    sql` `,
  );
  const { rows } = await sql<{ id: string; desired_version: number }>`update lockers set desired_version = desired_version + case id ${step} end where id in (${sql.join(ids)}) returning id, desired_version`.execute(trx);
  const last = new Map(rows.map((r) => [r.id, Number(r.desired_version)]));
  const missing = ids.filter((id) => !last.has(id));
  if (missing.length) throw new Error(`takeDesiredVersions: no locker ${missing.join(', ')}`);
  return last;
}

/** One version's delta to the locker (after the commit that recorded it). */
export async function publishDelta(ctx: Pick<ServerContext, 'clock' | 'link'>, lockerId: string, version: number, changes: StateChange[]): Promise<void> {
  const msg: StateDeltaMessage = {
    v: PROTOCOL_VERSION,
    full: false,
    version,
    baseVersion: version - 1,
    serverTime: ctx.clock.now(),
    changes,
  };
  await ctx.link.publish(topics.state(lockerId), encode(msg), { qos: 1 });
}

/** What the server pushes to a locker as settings. */
function deviceConfig(ctx: ServerContext, lockerId: string): DeviceConfig {
  return {
    pinKey: lockerPinKey(ctx.pinSecret, lockerId).toString('base64url'),
    pinLength: ctx.config.pinLength,
    pinAlphabet: ctx.config.pinAlphabet,
    clockToleranceSec: ctx.config.clockToleranceSec,
    doorOpenTimeoutMs: ctx.config.doorOpenTimeoutMs,
    heartbeatMs: ctx.config.heartbeatMs,
    unlockAttempts: ctx.config.unlockAttempts,
  };
}

/**
 * A locker's snapshot in one statement. Part 0: the locker's version and its compartments in id order (one row with
 * null compartment columns for a locker without any; no row at all: no such locker). Part 1: its grants that still
 * count, live ones (to carry) and revoked ones (to refuse), in jti order.
 */
const snapshotRows = prepareQuery((db, a: { lockerId: string; expAfter: number }) =>
  db
    .selectFrom('lockers as l')
    .leftJoin('compartments as c', 'c.locker_id', 'l.id')
    .where('l.id', '=', a.lockerId)
    .select([
      sql<number>`0`.as('part'),
      'l.desired_version',
      'c.id as sort_key',
      sql<string | null>`c.size`.as('size'),
      'c.in_service',
      sql<string | null>`null`.as('token'),
      sql<string | null>`null`.as('status'),
      sql<number | null>`null`.as('exp'),
    ])
    .unionAll(
      db
        .selectFrom('grants as g')
        .where('g.locker_id', '=', a.lockerId)
        .where('g.status', 'in', ['live', 'revoked'])
        .where('g.exp', '>', a.expAfter)
        .select([
          sql<number>`1`.as('part'),
          sql<number>`null`.as('desired_version'),
          sql<string | null>`g.jti`.as('sort_key'),
          sql<string | null>`null`.as('size'),
          sql<number | null>`null`.as('in_service'),
          sql<string | null>`g.token`.as('token'),
          sql<string | null>`g.status`.as('status'),
          sql<number | null>`g.exp`.as('exp'),
        ]),
    )
    .orderBy('part')
    .orderBy('sort_key'),
);

/**
 * The whole desired state of a locker at its current version, read by one statement (`snapshotRows`): a statement
 * sees one state of the database on SQLite and Postgres alike, so the version, compartments and grants agree without
 * a transaction. A snapshot answers every connect; it had been a transaction of two reads, four round trips on
 * Postgres (BEGIN, two statements, COMMIT).
 */
export async function buildSnapshot(ctx: ServerContext, lockerId: string): Promise<StateSnapshotMessage | null> {
  const now = ctx.clock.now();
  const { rows } = await snapshotRows.run(ctx.db, { lockerId, expAfter: Math.floor(now / 1000) - ctx.config.clockToleranceSec });
  const locker = rows[0];
  if (!locker || Number(locker.part) !== 0) return null;
  const compartments: StateSnapshotMessage['compartments'] = [];
  const live: string[] = [];
  const revoked: { jti: string; exp: number }[] = [];
  for (const r of rows) {
    if (Number(r.part) === 0) {
      if (r.sort_key !== null && r.size !== null) compartments.push({ id: r.sort_key, size: r.size as StateSnapshotMessage['compartments'][number]['size'], inService: Number(r.in_service) === 1 });
    } else if (r.status === 'live' && r.token !== null) live.push(r.token);
    else if (r.status === 'revoked' && r.sort_key !== null) revoked.push({ jti: r.sort_key, exp: Number(r.exp) });
  }
  // The schema's limit on revocations: the longest-lived matter most (the others expire first anyway).
  revoked.sort((x, y) => y.exp - x.exp);
  if (revoked.length > MAX_SNAPSHOT_REVOKED) ctx.log.warn({ lockerId }, 'snapshot revocation list truncated');
  return {
    v: PROTOCOL_VERSION,
    full: true,
    version: Number(locker.desired_version),
    serverTime: now,
    keys: ctx.keys.publicKeys(),
    config: deviceConfig(ctx, lockerId),
    compartments,
    grants: live,
    revoked: revoked.slice(0, MAX_SNAPSHOT_REVOKED).map((g) => g.jti),
  };
}

export async function publishSnapshot(ctx: ServerContext, lockerId: string): Promise<void> {
  const snapshot = await buildSnapshot(ctx, lockerId);
  if (snapshot) await ctx.link.publish(topics.state(lockerId), encode(snapshot), { qos: 1 });
}
