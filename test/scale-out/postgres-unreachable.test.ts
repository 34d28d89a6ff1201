import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../simulator/tcp-proxy.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// The simulator's TCP proxy, here between the server and its Postgres: cut, the open connections are destroyed and
// every new one is dropped at once, as when the database host is gone.
let pg: TestPostgres;
let relay: TcpProxy;
let t: TestServer;

beforeAll(async () => {
  pg = await startPostgres();
  const direct = new URL(await pg.createDatabase());
  relay = new TcpProxy('127.0.0.1', pg.port);
  direct.port = new URL(await relay.listen()).port;
  t = await startTestServer({ databaseUrl: direct.toString() });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await relay?.close();
  await pg?.stop();
});

const lockers = () => t.server.app.inject({ method: 'GET', url: '/v1/lockers', headers: { authorization: `Bearer ${t.server.adminToken}` } });

describe('a server whose Postgres cannot be reached', () => {
  it('answers 503 STORAGE_UNAVAILABLE with retry-after (not 500 INTERNAL), and serves again once the database is back', async () => {
    expect((await lockers()).statusCode).toBe(200);

    relay.cut();
    // The pool drops the connections the cut broke; every request then needs a new one, which fails.
    await expect
      .poll(async () => {
        const res = await lockers();
        return { status: res.statusCode, code: (res.json() as { error?: { code?: string } }).error?.code, retryAfter: res.headers['retry-after'] };
      }, { timeout: 10_000 })
      .toEqual({ status: 503, code: 'STORAGE_UNAVAILABLE', retryAfter: '5' });

    relay.restore();
    await expect.poll(async () => (await lockers()).statusCode, { timeout: 10_000 }).toBe(200);
  }, 30_000);
});
