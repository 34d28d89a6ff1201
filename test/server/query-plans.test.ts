import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/store/database.js';

/** The lookups that run once per request on tables that grow with traffic use an index, not a scan. */
describe('query plans on a migrated SQLite database', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('finds the grants that kept a PIN through an index (a recipient asking for their code)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-plan-'));
    dirs.push(dir);
    const file = path.join(dir, 'lockstep.db');
    const db = await openDatabase(file);
    // The same query server/parcels/parcel-views.ts runs, compiled by Kysely.
    const query = db
      .selectFrom('grants')
      .select('token')
      .where('pin_jti', '=', 'jti-1')
      .where('status', '!=', 'revoked')
      .orderBy('exp', 'desc')
      .compile();
    await db.destroy();

    const raw = new SQLite(file, { readonly: true });
    try {
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.parameters) as { detail: string }[];
      const details = plan.map((p) => p.detail).join('\n');
      expect(details).toMatch(/USING INDEX grants_pin_jti/);
      expect(details).not.toMatch(/^SCAN grants/m);
    } finally {
      raw.close();
    }
  });
});
