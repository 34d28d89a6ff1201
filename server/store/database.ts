import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { initial } from './migrations/001-initial.js';
import { accounts } from './migrations/002-accounts.js';
import { offlineSync } from './migrations/003-offline-sync.js';
import { deviceIdentity } from './migrations/006-device-identity.js';
import { auditAndKeys } from './migrations/004-audit-and-keys.js';
import { alarmActions } from './migrations/005-alarm-actions.js';
import { webhooks } from './migrations/007-webhooks.js';
import { parcelReference } from './migrations/008-parcel-reference.js';
import { brokerTokenUses } from './migrations/009-broker-token-uses.js';
import { lifecycleDevice } from './migrations/010-lifecycle-device.js';
import { lifecycleServer } from './migrations/011-lifecycle-server.js';

/** Migrations in the order they run. Names sort in that order; never rename one that has shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-accounts': accounts,
  '003-offline-sync': offlineSync,
  '004-audit-and-keys': auditAndKeys,
  '005-alarm-actions': alarmActions,
  '006-device-identity': deviceIdentity,
  '007-webhooks': webhooks,
  '008-parcel-reference': parcelReference,
  '009-broker-token-uses': brokerTokenUses,
  '010-lifecycle-device': lifecycleDevice,
  '011-lifecycle-server': lifecycleServer,
};

const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export type Db = Kysely<Database>;

/** Opens (creating when missing) the SQLite database and brings its schema up to date. */
export async function openDatabase(file: string): Promise<Db> {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // Events are acknowledged to devices (which then delete them) after commit: commits must survive power loss.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return db;
}
