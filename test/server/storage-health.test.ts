import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { ManualClock } from '../../shared/clock.js';
import { openDatabase, type Db } from '../../server/store/database.js';
import { probeWrite, StorageHealth, storageWatcher } from '../../server/store/storage-health.js';

const PROBE_MS = 1000;

/** A real SQLite database whose writes fail while `query_only` is on (SQLITE_READONLY), as a read-only volume's would. */
describe('storage health', () => {
  let dir: string;
  let db: Db;
  let health: StorageHealth;
  let probes: number;
  const clock = new ManualClock();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-health-'));
    const log = pino({ level: 'silent' });
    health = new StorageHealth(log, clock, PROBE_MS);
    db = await openDatabase(path.join(dir, 'db.sqlite'), storageWatcher(health, log));
    probes = 0;
    health.setProbe(() => {
      probes++;
      return probeWrite(db, clock.now());
    });
  });
  afterEach(async () => {
    health.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const readOnly = (on: boolean) => sql.raw(`pragma query_only = ${on ? 'on' : 'off'}`).execute(db);
  const write = () => db.insertInto('leases').values({ name: `w${Math.random()}`, holder: 'h', expires_at: 1 }).execute();

  it('is set by a failed write of any path, in or out of a transaction, and ignores refusals that are not about storage', async () => {
    const dup = () => db.insertInto('leases').values({ name: 'dup', holder: 'h', expires_at: 1 }).execute();
    await dup();
    await expect(dup()).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(health.state).toBeUndefined();

    await readOnly(true);
    await expect(db.transaction().execute((trx) => trx.insertInto('leases').values({ name: 'x', holder: 'h', expires_at: 1 }).execute())).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    expect(health.state).toMatchObject({ failure: 'STORAGE_UNAVAILABLE', code: 'SQLITE_READONLY' });
    // Reads still work and clear nothing; a read-only transaction that commits is not a write either.
    await db.selectFrom('leases').selectAll().execute();
    await db.transaction().execute((trx) => trx.selectFrom('leases').selectAll().execute());
    expect(health.state).toBeDefined();
  });

  it('is cleared by the next write that commits, and probes on the clock only while writes fail', async () => {
    clock.advance(10 * PROBE_MS);
    expect(probes).toBe(0);

    await readOnly(true);
    await expect(write()).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    expect(health.state?.failure).toBe('STORAGE_UNAVAILABLE');
    clock.advance(PROBE_MS);
    await expect.poll(() => probes).toBe(1);
    expect(health.state).toBeDefined();

    // The cause goes away: the next probe commits and clears it, and the probing stops.
    await readOnly(false);
    clock.advance(PROBE_MS);
    await expect.poll(() => health.state).toBeUndefined();
    expect(probes).toBe(2);
    clock.advance(10 * PROBE_MS);
    expect(probes).toBe(2);

    // A write of any path clears it as well.
    await readOnly(true);
    await expect(write()).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    await readOnly(false);
    await db.transaction().execute((trx) => trx.insertInto('leases').values({ name: 'y', holder: 'h', expires_at: 1 }).execute());
    expect(health.state).toBeUndefined();
  });
});
