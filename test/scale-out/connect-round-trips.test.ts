import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { buildSnapshot } from '../../server/desired-state/desired-state.js';
import { checkBrokerPassword } from '../../server/broker/device-auth.js';
import { KnownKeys } from '../../server/broker/known-keys.js';
import type { Database } from '../../server/store/schema.js';
import type { ServerContext } from '../../server/context.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

/**
 * What every connect costs the database (issue 18: a power cut brings the whole fleet back at once): the snapshot
 * is one statement, and a sign-in whose token this process already verified against the key it remembers is one
 * statement on Postgres. Each is checked on a database of its own that counts the statements sent (a pool whose
 * clients count their queries on Postgres; Kysely's log on SQLite), and against what the database holds.
 */
let pgdb: TestPostgres;
let onPg: TestServer;
let onSqlite: TestServer;

beforeAll(async () => {
  pgdb = await startPostgres();
  const databaseUrl = await pgdb.createDatabase();
  [onPg, onSqlite] = await Promise.all([startTestServer({ databaseUrl }), startTestServer()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([onPg?.close(), onSqlite?.close()]);
  await pgdb?.stop();
});

/** A second handle on the server's database that counts the statements it sends (BEGIN and COMMIT among them). */
function countingDb(t: TestServer): { db: Kysely<Database>; sent: () => number; close: () => Promise<void> } {
  let sent = 0;
  const url = t.server.ctx.config.databaseUrl;
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        sent++;
        return query(...a);
      };
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, sent: () => sent, close: () => db.destroy() };
  }
  const file = new SQLite(path.join(t.dir, 'lockstep.sqlite'));
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: file }),
    log: () => void sent++,
  });
  return { db, sent: () => sent, close: () => db.destroy() };
}

const book = (t: TestServer, lockerId: string, reference: string) =>
  t.api.post<{ id: string }>('/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference });

describe.each([
  ['SQLite', () => onSqlite],
  ['Postgres', () => onPg],
])('a connect on %s', (name, server) => {
  it('answers the snapshot with one statement: the version, compartments in order, live grants, revoked ids', async () => {
    const t = server();
    const l = await registerLocker(t.api, [
      { id: 'B1', size: 'M' },
      { id: 'A1', size: 'S' },
      { id: 'C1', size: 'L' },
    ]);
    await book(t, l.id, `SNAP-${name}-1`);
    const cancelled = await book(t, l.id, `SNAP-${name}-2`);
    await t.api.post(`/v1/parcels/${cancelled.id}/cancel`, {});
    const counting = countingDb(t);
    try {
      const before = counting.sent();
      const snapshot = await buildSnapshot({ ...t.server.ctx, db: counting.db } as ServerContext, l.id);
      expect(counting.sent() - before, 'statements for one snapshot').toBe(1);
      const grants = await t.server.ctx.db.selectFrom('grants').select(['jti', 'token', 'status']).where('locker_id', '=', l.id).orderBy('jti').execute();
      const version = (await t.server.ctx.db.selectFrom('lockers').select('desired_version').where('id', '=', l.id).executeTakeFirstOrThrow()).desired_version;
      expect(grants.filter((g) => g.status === 'live')).toHaveLength(2);
      expect(grants.filter((g) => g.status === 'revoked')).toHaveLength(2);
      expect(snapshot).toMatchObject({
        full: true,
        version: Number(version),
        compartments: [
          { id: 'A1', size: 'S', inService: true },
          { id: 'B1', size: 'M', inService: true },
          { id: 'C1', size: 'L', inService: true },
        ],
        grants: grants.filter((g) => g.status === 'live').map((g) => g.token),
      });
      expect([...(snapshot?.revoked ?? [])].sort()).toEqual(grants.filter((g) => g.status === 'revoked').map((g) => g.jti));
      // A locker without compartments (none left in service): a snapshot with none. No such locker: no snapshot.
      const bare = await registerLocker(t.api, [{ id: 'A1', size: 'S' }]);
      await t.server.ctx.db.deleteFrom('compartments').where('locker_id', '=', bare.id).execute();
      expect(await buildSnapshot({ ...t.server.ctx, db: counting.db } as ServerContext, bare.id)).toMatchObject({ compartments: [], grants: [], revoked: [] });
      expect(await buildSnapshot({ ...t.server.ctx, db: counting.db } as ServerContext, 'no-such-locker')).toBeNull();
    } finally {
      await counting.close();
    }
  });

  it('checks a sign-in verified against the remembered key in one statement on Postgres; refuses its replay, a stale key, a revoked locker', async () => {
    const t = server();
    const l: RegisteredLocker = await registerLocker(t.api);
    const known = new KnownKeys();
    const counting = countingDb(t);
    try {
      const key = (await t.server.ctx.db.selectFrom('lockers').select('public_key').where('id', '=', l.id).executeTakeFirstOrThrow()).public_key as string;
      const token = Buffer.from(await l.device.sign());
      const now = Date.now();
      let before = counting.sent();
      expect(await checkBrokerPassword(counting.db, l.id, token, now, known, key)).toBe('OK');
      expect(counting.sent() - before, 'statements for one sign-in').toBe(name === 'Postgres' ? 1 : 2);
      const uses = await t.server.ctx.db.selectFrom('broker_token_uses').select('jti').where('locker_id', '=', l.id).execute();
      expect(uses).toHaveLength(1);
      // The same token again: a replay, and no second use recorded.
      before = counting.sent();
      expect(await checkBrokerPassword(counting.db, l.id, token, now, known, key)).toBe('REPLAYED');
      expect(counting.sent() - before).toBe(name === 'Postgres' ? 1 : 2);
      expect(await t.server.ctx.db.selectFrom('broker_token_uses').select('jti').where('locker_id', '=', l.id).execute()).toHaveLength(1);
      // A key this process remembers wrongly (the locker re-enrolled elsewhere): not trusted, the token is
      // verified against the key the database holds, and no use is recorded for it.
      const stale = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) });
      const other = Buffer.from(await l.device.sign());
      expect(await checkBrokerPassword(counting.db, l.id, other, now, known, stale)).toBe('OK');
      const forged = await registerLocker(t.api);
      const foreign = Buffer.from(await forged.device.sign({ lockerId: l.id }));
      expect(await checkBrokerPassword(counting.db, l.id, foreign, now, known, stale)).toBe('BAD_SIGNATURE');
      expect(await t.server.ctx.db.selectFrom('broker_token_uses').select('jti').where('locker_id', '=', l.id).execute()).toHaveLength(2);
      // A locker whose key is gone has no way in, even with a token verified against the key remembered.
      await t.server.ctx.db.updateTable('lockers').set({ public_key: null }).where('id', '=', l.id).execute();
      expect(await checkBrokerPassword(counting.db, l.id, Buffer.from(await l.device.sign()), now, known, key)).toBe('NOT_ENROLLED');
      expect(await t.server.ctx.db.selectFrom('broker_token_uses').select('jti').where('locker_id', '=', l.id).execute()).toHaveLength(2);
    } finally {
      await counting.close();
    }
  });
});
