import type { Kysely, Migration } from 'kysely';

/**
 * Firmware and fleet management (issue 19): signed update artefacts, staged rollouts and each targeted locker's
 * progress, remote diagnostics requests with their results, and each locker's timezone (maintenance windows are in
 * the locker's local time).
 */
export const firmware: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('lockers').addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC')).execute();
    await db.schema
      .createTable('firmware_artefacts')
      .addColumn('version', 'text', (c) => c.primaryKey())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      /** The artefact's bytes, base64 (the same text on SQLite and Postgres). */
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('notes', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('rollouts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('version', 'text', (c) => c.notNull().references('firmware_artefacts.version'))
      .addColumn('state', 'text', (c) => c.notNull())
      /** JSON: the waves' cumulative shares of the targets, percent. */
      .addColumn('waves', 'text', (c) => c.notNull())
      .addColumn('wave', 'integer', (c) => c.notNull())
      .addColumn('wave_started_at', 'bigint')
      .addColumn('window_start_min', 'integer', (c) => c.notNull())
      .addColumn('window_end_min', 'integer', (c) => c.notNull())
      .addColumn('deadline_sec', 'integer', (c) => c.notNull())
      .addColumn('max_failed_pct', 'integer', (c) => c.notNull())
      .addColumn('max_alarm_increase', 'integer', (c) => c.notNull())
      .addColumn('halted_reason', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rollouts_state').on('rollouts').columns(['state']).execute();
    await db.schema
      .createTable('rollout_lockers')
      .addColumn('rollout_id', 'text', (c) => c.notNull().references('rollouts.id'))
      .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
      .addColumn('wave', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('from_version', 'text')
      .addColumn('command_id', 'text')
      .addColumn('sent_at', 'bigint')
      .addColumn('last_sent_at', 'bigint')
      .addColumn('deadline_at', 'bigint')
      .addColumn('done_at', 'bigint')
      /** What the locker last said (downloading, deferred, applied, failed, rolled_back) and why. */
      .addColumn('device_state', 'text')
      .addColumn('detail', 'text')
      .addPrimaryKeyConstraint('rollout_lockers_pk', ['rollout_id', 'locker_id'])
      .execute();
    await db.schema.createIndex('rollout_lockers_command').on('rollout_lockers').columns(['command_id']).execute();
    await db.schema.createIndex('rollout_lockers_wave').on('rollout_lockers').columns(['rollout_id', 'wave', 'state']).execute();
    await db.schema
      .createTable('diagnostics_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('log_lines', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('last_sent_at', 'bigint')
      .addColumn('completed_at', 'bigint')
      /** JSON of the locker's answer (DiagnosticsResult). */
      .addColumn('result', 'text')
      .execute();
    await db.schema.createIndex('diagnostics_requests_locker').on('diagnostics_requests').columns(['locker_id', 'created_at']).execute();
    await db.schema.createIndex('diagnostics_requests_state').on('diagnostics_requests').columns(['state', 'expires_at']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('diagnostics_requests').execute();
    await db.schema.dropTable('rollout_lockers').execute();
    await db.schema.dropTable('rollouts').execute();
    await db.schema.dropTable('firmware_artefacts').execute();
    await db.schema.alterTable('lockers').dropColumn('timezone').execute();
  },
};
