import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Listing the fleet at 170,000 lockers and its history (issue 19):
 * - `locker_rollups`: one row per locker with what the fleet page sorts and filters on besides the lockers table
 *   (compartments, in use, out of service, occupancy in per mille, unresolved alarms);
 * - `locker_hourly`: per locker and hour (start, ms), the bookings, deposits, pickups, expiries and alarms raised;
 * - `occupancy_samples`: compartments in use per size, per locker (or `*` for the fleet) and hour, written by the
 *   scheduler's sampler (server/history/occupancy-sampler.ts) when they changed;
 * - keyset indexes for the lockers, parcels and alarms listings.
 *
 * The rollups and hourly counters are kept by triggers, in the transaction that writes the row they count (a
 * compartment taken or freed, an alarm raised or resolved, a parcel history row): whichever code path writes it,
 * on one process or many, the counts cannot drift and no view scans events. The trigger bodies are the same SQL on
 * both databases; only the wrapping differs (SQLite's inline body, Postgres' plpgsql function).
 */

const HOUR_MS = 3_600_000;

const inUse = (row: string) => `CASE WHEN ${row}.parcel_id IS NOT NULL THEN 1 ELSE 0 END`;
const outOfService = (row: string) => `CASE WHEN ${row}.parcel_id IS NULL AND ${row}.in_service = 0 THEN 1 ELSE 0 END`;

/**
 * Moves a locker's compartment counts by a delta (one row inserted, deleted or changed): arithmetic on the rollup
 * row, no count over the compartments. SET expressions read the row as it was, on both databases.
 */
const shiftCompartments = (ref: string, dTotal: string, dInUse: string, dOut: string) => `
  UPDATE locker_rollups SET
    compartments = compartments + ${dTotal},
    in_use = in_use + ${dInUse},
    out_of_service = out_of_service + ${dOut},
    occupancy_pm = CASE WHEN compartments + ${dTotal} <= 0 THEN 0 ELSE ((in_use + ${dInUse}) * 1000) / (compartments + ${dTotal}) END
  WHERE locker_id = ${ref}`;

const refreshAlarms = (ref: string) => `
  UPDATE locker_rollups SET open_alarms = (SELECT count(*) FROM alarms a WHERE a.locker_id = ${ref} AND a.state <> 'resolved')
  WHERE locker_id = ${ref}`;

/** Adds one to a locker's counter for the hour `at` falls in (the hour's start in ms since the epoch). */
const countHour = (lockerExpr: string, fromClause: string, at: string, column: string) => `
  INSERT INTO locker_hourly (locker_id, hour, bookings, deposits, pickups, expiries, alarms)
  SELECT ${lockerExpr}, (${at} / ${HOUR_MS}) * ${HOUR_MS},
    ${['bookings', 'deposits', 'pickups', 'expiries', 'alarms'].map((c) => (c === column ? '1' : '0')).join(', ')}
  ${fromClause}
  ON CONFLICT (locker_id, hour) DO UPDATE SET ${column} = locker_hourly.${column} + 1`;

/** Which parcel history types count, and where. */
const HISTORY_COUNTERS: Record<string, string> = { booked: 'bookings', deposited: 'deposits', picked_up: 'pickups', expired: 'expiries' };

interface TriggerSpec {
  name: string;
  /** e.g. `AFTER UPDATE OF parcel_id, in_service ON compartments` */
  on: string;
  when?: string;
  body: string[];
}

const TRIGGERS: TriggerSpec[] = [
  { name: 'lockers_rollup_insert', on: 'AFTER INSERT ON lockers', body: ['INSERT INTO locker_rollups (locker_id) VALUES (NEW.id)'] },
  { name: 'compartments_rollup_insert', on: 'AFTER INSERT ON compartments', body: [shiftCompartments('NEW.locker_id', '1', inUse('NEW'), outOfService('NEW'))] },
  {
    name: 'compartments_rollup_update',
    on: 'AFTER UPDATE OF parcel_id, in_service ON compartments',
    body: [shiftCompartments('NEW.locker_id', '0', `(${inUse('NEW')}) - (${inUse('OLD')})`, `(${outOfService('NEW')}) - (${outOfService('OLD')})`)],
  },
  { name: 'compartments_rollup_delete', on: 'AFTER DELETE ON compartments', body: [shiftCompartments('OLD.locker_id', '-1', `-(${inUse('OLD')})`, `-(${outOfService('OLD')})`)] },
  {
    name: 'alarms_rollup_insert',
    on: 'AFTER INSERT ON alarms',
    body: [refreshAlarms('NEW.locker_id'), countHour('NEW.locker_id', 'WHERE 1 = 1', 'NEW.first_at', 'alarms')],
  },
  { name: 'alarms_rollup_update', on: 'AFTER UPDATE OF state, locker_id ON alarms', body: [refreshAlarms('NEW.locker_id'), refreshAlarms('OLD.locker_id')] },
  ...Object.entries(HISTORY_COUNTERS).map(([type, column]) => ({
    name: `parcel_history_count_${column}`,
    on: 'AFTER INSERT ON parcel_history',
    when: `NEW.type = '${type}'`,
    body: [countHour('p.locker_id', 'FROM parcels p WHERE p.id = NEW.parcel_id', 'NEW.at', column)],
  })),
];

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

async function createTrigger(db: Kysely<unknown>, t: TriggerSpec): Promise<void> {
  if (isPostgres(db)) {
    await sql.raw(`CREATE FUNCTION ${t.name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${t.body.join(';\n')}; RETURN NULL; END $$`).execute(db);
    await sql.raw(`CREATE TRIGGER ${t.name} ${t.on} FOR EACH ROW ${t.when ? `WHEN (${t.when}) ` : ''}EXECUTE FUNCTION ${t.name}_fn()`).execute(db);
    return;
  }
  await sql.raw(`CREATE TRIGGER ${t.name} ${t.on} FOR EACH ROW ${t.when ? `WHEN ${t.when} ` : ''}BEGIN ${t.body.join(';\n')}; END`).execute(db);
}

async function dropTrigger(db: Kysely<unknown>, t: TriggerSpec): Promise<void> {
  if (isPostgres(db)) {
    const table = t.on.split(' ON ')[1];
    await sql.raw(`DROP TRIGGER IF EXISTS ${t.name} ON ${table}`).execute(db);
    await sql.raw(`DROP FUNCTION IF EXISTS ${t.name}_fn()`).execute(db);
    return;
  }
  await sql.raw(`DROP TRIGGER IF EXISTS ${t.name}`).execute(db);
}

export const listingAndHistory: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('locker_rollups')
      .addColumn('locker_id', 'text', (c) => c.primaryKey().references('lockers.id'))
      .addColumn('compartments', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('in_use', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('out_of_service', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('occupancy_pm', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('open_alarms', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('locker_rollups_occupancy').on('locker_rollups').columns(['occupancy_pm', 'locker_id']).execute();
    await db.schema.createIndex('locker_rollups_alarms').on('locker_rollups').columns(['open_alarms', 'locker_id']).execute();

    await db.schema
      .createTable('locker_hourly')
      .addColumn('locker_id', 'text', (c) => c.notNull())
      .addColumn('hour', 'bigint', (c) => c.notNull())
      .addColumn('bookings', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deposits', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pickups', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expiries', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('alarms', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('locker_hourly_pk', ['locker_id', 'hour'])
      .execute();
    await db.schema.createIndex('locker_hourly_hour').on('locker_hourly').columns(['hour']).execute();

    await db.schema
      .createTable('occupancy_samples')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('hour', 'bigint', (c) => c.notNull())
      .addColumn('size', 'text', (c) => c.notNull())
      .addColumn('in_use', 'integer', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('occupancy_samples_pk', ['scope', 'hour', 'size'])
      .execute();

    // Keyset listings: each sort is (value, id), and the filters narrow an index range.
    await db.schema.createIndex('lockers_name').on('lockers').columns(['name', 'id']).execute();
    await db.schema.createIndex('lockers_online').on('lockers').columns(['online', 'id']).execute();
    await sql`CREATE INDEX lockers_last_seen ON lockers ((coalesce(last_seen_at, -1)), id)`.execute(db);
    await db.schema.createIndex('parcels_created').on('parcels').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('parcels_owner_created').on('parcels').columns(['created_by', 'created_at', 'id']).execute();
    await db.schema.createIndex('parcels_status_created').on('parcels').columns(['status', 'created_at', 'id']).execute();
    await db.schema.createIndex('parcels_locker_created').on('parcels').columns(['locker_id', 'created_at', 'id']).execute();
    await db.schema.createIndex('alarms_last').on('alarms').columns(['last_at', 'id']).execute();
    await db.schema.createIndex('alarms_kind_last').on('alarms').columns(['kind', 'last_at', 'id']).execute();
    await db.schema.createIndex('alarms_locker_last').on('alarms').columns(['locker_id', 'last_at', 'id']).execute();

    for (const t of TRIGGERS) await createTrigger(db, t);

    // What is there already: rollups of every locker, and the hours of the history kept so far.
    await sql`INSERT INTO locker_rollups (locker_id) SELECT id FROM lockers`.execute(db);
    await sql.raw(refreshAll()).execute(db);
    for (const [type, column] of Object.entries(HISTORY_COUNTERS)) {
      await sql
        .raw(
          `INSERT INTO locker_hourly (locker_id, hour, ${column})
           SELECT p.locker_id, (h.at / ${HOUR_MS}) * ${HOUR_MS} AS hr, count(*) FROM parcel_history h JOIN parcels p ON p.id = h.parcel_id
           WHERE h.type = '${type}' GROUP BY p.locker_id, hr
           ON CONFLICT (locker_id, hour) DO UPDATE SET ${column} = excluded.${column}`,
        )
        .execute(db);
    }
    await sql
      .raw(
        `INSERT INTO locker_hourly (locker_id, hour, alarms)
         SELECT a.locker_id, (a.first_at / ${HOUR_MS}) * ${HOUR_MS} AS hr, count(*) FROM alarms a GROUP BY a.locker_id, hr
         ON CONFLICT (locker_id, hour) DO UPDATE SET alarms = excluded.alarms`,
      )
      .execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const t of TRIGGERS) await dropTrigger(db, t);
    for (const index of ['lockers_name', 'lockers_online', 'lockers_last_seen', 'parcels_created', 'parcels_owner_created', 'parcels_status_created', 'parcels_locker_created', 'alarms_last', 'alarms_kind_last', 'alarms_locker_last']) {
      await db.schema.dropIndex(index).execute();
    }
    await db.schema.dropTable('occupancy_samples').execute();
    await db.schema.dropTable('locker_hourly').execute();
    await db.schema.dropTable('locker_rollups').execute();
  },
};

/** Every rollup recomputed at once (the migration's backfill). */
function refreshAll(): string {
  return `UPDATE locker_rollups SET
    compartments = (SELECT count(*) FROM compartments c WHERE c.locker_id = locker_rollups.locker_id),
    in_use = (SELECT count(*) FROM compartments c WHERE c.locker_id = locker_rollups.locker_id AND c.parcel_id IS NOT NULL),
    out_of_service = (SELECT count(*) FROM compartments c WHERE c.locker_id = locker_rollups.locker_id AND c.parcel_id IS NULL AND c.in_service = 0),
    occupancy_pm = (SELECT CASE WHEN count(*) = 0 THEN 0 ELSE (sum(CASE WHEN c.parcel_id IS NOT NULL THEN 1 ELSE 0 END) * 1000) / count(*) END
                    FROM compartments c WHERE c.locker_id = locker_rollups.locker_id),
    open_alarms = (SELECT count(*) FROM alarms a WHERE a.locker_id = locker_rollups.locker_id AND a.state <> 'resolved')`;
}
