import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * A TCP relay between the server and its Postgres: cut, every connection through it is gone and new ones are
 * refused (ECONNREFUSED), as when the database host is down.
 */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}

  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((down) => {
      const up = connect(this.target, '127.0.0.1');
      for (const s of [down, up]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let pg: TestPostgres;
let relay: Relay;
let t: TestServer;

beforeAll(async () => {
  pg = await startPostgres();
  const direct = new URL(await pg.createDatabase());
  relay = new Relay(pg.port);
  await relay.open();
  direct.port = String(relay.port);
  t = await startTestServer({ databaseUrl: direct.toString() });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await relay?.cut();
  await pg?.stop();
});

const lockers = () => t.server.app.inject({ method: 'GET', url: '/v1/lockers', headers: { authorization: `Bearer ${t.server.adminToken}` } });

describe('a server whose Postgres cannot be reached', () => {
  it('answers 503 STORAGE_UNAVAILABLE with retry-after (not 500 INTERNAL), and serves again once the database is back', async () => {
    expect((await lockers()).statusCode).toBe(200);

    await relay.cut();
    // The pool drops the connections the cut broke; every request then needs a new one, which is refused.
    await expect
      .poll(async () => {
        const res = await lockers();
        return { status: res.statusCode, code: (res.json() as { error?: { code?: string } }).error?.code, retryAfter: res.headers['retry-after'] };
      }, { timeout: 10_000 })
      .toEqual({ status: 503, code: 'STORAGE_UNAVAILABLE', retryAfter: '5' });

    await relay.open();
    await expect.poll(async () => (await lockers()).statusCode, { timeout: 10_000 }).toBe(200);
  }, 30_000);
});
