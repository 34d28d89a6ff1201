import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError, ApiUnreachableError } from '../../client/http-client.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { runSimulation } from '../../simulator/run-simulation.js';
import { startTestServer } from '../helpers/test-server.js';

/** What the server does with the n-th request (1-based): cut the connection, answer a status, or answer 200 (with this JSON). */
type Behaviour = (n: number, req: IncomingMessage) => 'cut' | number | { json: string };

interface Upstream {
  url: string;
  port: number;
  seen: string[];
  close(): Promise<void>;
}

const open: Upstream[] = [];

/** A real HTTP server on loopback that behaves as told: a server restarting, a gateway in front of one. */
async function upstream(behaviour: Behaviour, port = 0): Promise<Upstream> {
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const what = behaviour(seen.length, req);
    req.resume();
    if (what === 'cut') return void req.socket.destroy();
    if (typeof what === 'object') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(what.json);
    }
    if (what !== 200) {
      res.writeHead(what, { 'content-type': 'text/html' });
      return void res.end(`<html><body>${what} Bad Gateway</body></html>`);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ answer: seen.length }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const actual = (server.address() as AddressInfo).port;
  const u: Upstream = {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  open.push(u);
  return u;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

const fast = { readRetry: { firstDelayMs: 5, maxDelayMs: 20 } };

describe('the simulator API client (client/http-client.ts): reads are retried, writes only with their Idempotency-Key', () => {
  it('a GET whose connection is cut twice (a server going down) gets the answer on the third try, and the retries are counted', async () => {
    const up = await upstream((n) => (n <= 2 ? 'cut' : 200));
    const told: string[] = [];
    const api = new ApiClient(up.url, 't', { ...fast, onReadRetry: (path, reason) => told.push(`${path} ${reason}`) });
    await expect(api.get('/v1/parcels/p1/notifications')).resolves.toEqual({ answer: 3 });
    expect(up.seen).toEqual(Array(3).fill('GET /v1/parcels/p1/notifications'));
    expect(api.readRetries).toBe(2);
    expect(told).toEqual(['/v1/parcels/p1/notifications unreachable', '/v1/parcels/p1/notifications unreachable']);
  });

  it('a GET answered 502, 503 and 504 by a gateway (HTML bodies) gets the answer once the server is back', async () => {
    const up = await upstream((n) => [502, 503, 504][n - 1] ?? 200);
    const api = new ApiClient(up.url, 't', fast);
    await expect(api.get('/v1/lockers')).resolves.toEqual({ answer: 4 });
    expect(api.readRetries).toBe(3);
  });

  it('a GET to a server that is restarting on its port (refused, then listening again) gets the answer', async () => {
    const first = await upstream(() => 200);
    const port = first.port;
    await first.close();
    open.splice(open.indexOf(first), 1);
    const api = new ApiClient(`http://127.0.0.1:${port}`, 't', { readRetry: { firstDelayMs: 50, maxDelayMs: 200, budgetMs: 5000, attempts: 20 } });
    const answer = api.get<{ answer: number }>('/v1/lockers');
    await new Promise((r) => setTimeout(r, 120));
    const again = await upstream(() => 200, port);
    await expect(answer).resolves.toEqual({ answer: 1 });
    expect(again.seen).toEqual(['GET /v1/lockers']);
    expect(api.readRetries).toBeGreaterThan(0);
  });

  it('a POST without an Idempotency-Key cut off or answered 503 is sent once and fails: it may have been applied', async () => {
    const cut = await upstream(() => 'cut');
    const api = new ApiClient(cut.url, 't', fast);
    await expect(api.post('/v1/parcels', { lockerId: 'lk_1' }, { idempotencyKey: false })).rejects.toBeInstanceOf(ApiUnreachableError);
    expect(cut.seen).toEqual(['POST /v1/parcels']);

    const busy = await upstream(() => 503);
    const api2 = new ApiClient(busy.url, 't', fast);
    // POST /v1/lockers takes no key (its answer holds the enrolment token): never sent twice.
    await expect(api2.post('/v1/lockers', { name: 'x' })).rejects.toMatchObject({ status: 503 });
    expect(busy.seen).toEqual(['POST /v1/lockers']);
    expect(api.readRetries + api2.readRetries + api.writeRetries + api2.writeRetries).toBe(0);
  });

  it('a POST with its Idempotency-Key cut off or answered 503 is sent again with the same key (issue 16)', async () => {
    const keys: unknown[] = [];
    const flaky = await upstream((n, req) => {
      keys.push(req.headers['idempotency-key']);
      return n === 1 ? 'cut' : n === 2 ? 503 : 200;
    });
    const api = new ApiClient(flaky.url, 't', { ...fast, writeRetry: { firstDelayMs: 5, maxDelayMs: 10 } });
    await expect(api.post('/v1/parcels', { lockerId: 'lk_1' })).resolves.toEqual({ answer: 3 });
    expect(flaky.seen).toEqual(['POST /v1/parcels', 'POST /v1/parcels', 'POST /v1/parcels']);
    expect(keys).toHaveLength(3);
    expect(typeof keys[0]).toBe('string');
    expect(new Set(keys).size).toBe(1);
    expect(api.writeRetries).toBe(2);
    expect(api.readRetries).toBe(0);
  });

  it('retries are bounded: a server that never recovers fails after the set number of tries, or when the time budget is spent', async () => {
    const down = await upstream(() => 503);
    const api = new ApiClient(down.url, 't', { readRetry: { attempts: 4, firstDelayMs: 5, maxDelayMs: 10 } });
    const err = await api.get('/v1/lockers').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503 });
    expect(down.seen).toHaveLength(4);

    const cut = await upstream(() => 'cut');
    const timed = new ApiClient(cut.url, 't', { readRetry: { attempts: 1000, firstDelayMs: 40, maxDelayMs: 40, budgetMs: 150 } });
    const started = Date.now();
    await expect(timed.get('/v1/lockers')).rejects.toMatchObject({ code: 'SIM_SERVER_UNREACHABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cut.seen.length).toBeGreaterThan(1);
    expect(cut.seen.length).toBeLessThan(10);
  });

  it('an answer from the application (404, 500) is not retried: asking again would get the same', async () => {
    const up = await upstream((n) => (n === 1 ? 404 : 500));
    const api = new ApiClient(up.url, 't', fast);
    await expect(api.get('/v1/parcels/nope')).rejects.toMatchObject({ status: 404 });
    await expect(api.get('/v1/parcels/nope')).rejects.toMatchObject({ status: 500 });
    expect(up.seen).toHaveLength(2);
    expect(api.readRetries).toBe(0);
  });
});

describe('a recipient waiting for a code', () => {
  const code = { pin: '12345678', qr: 'qr' };
  const notifications = JSON.stringify({ notifications: [{ kind: 'pickup_code', code }] });

  it('keeps checking through an outage longer than the client retries, until the code comes', async () => {
    const up = await upstream((n) => (n <= 6 ? 'cut' : { json: notifications }));
    // Two tries per look-up: three look-ups find no server before the fourth gets the code.
    const api = new ApiClient(up.url, 't', { readRetry: { attempts: 2, firstDelayMs: 5, maxDelayMs: 5 } });
    await expect(awaitPickupCode(api, 'p_1', 10_000, 5)).resolves.toEqual(code);
    expect(up.seen).toHaveLength(7);
  });

  it('gives up at the deadline with the reason when no server ever answers, and at once on an answer that is not a gateway error', async () => {
    const down = await upstream(() => 'cut');
    const api = new ApiClient(down.url, 't', { readRetry: { attempts: 1 } });
    await expect(awaitPickupCode(api, 'p_1', 200, 10)).rejects.toBeInstanceOf(ApiUnreachableError);
    expect(down.seen.length).toBeGreaterThan(1);
    const gone = await upstream(() => 404);
    await expect(awaitPickupCode(new ApiClient(gone.url, 't'), 'p_1', 10_000, 10)).rejects.toMatchObject({ status: 404 });
    expect(gone.seen).toHaveLength(1);
  });
});

describe('a simulated run through a gateway whose server restarts', () => {
  it('recipients whose code look-ups are answered 503 a few times still get their codes: no parcel is given up', async () => {
    const live = await startTestServer();
    try {
      let refused = 0;
      // A gateway in front of the server: the first code look-ups find the server "restarting"; all else goes through.
      const gateway = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.method === 'GET' && req.url?.endsWith('/notifications') && refused < 4) {
            refused++;
            res.writeHead(503, { 'content-type': 'text/html' });
            return void res.end('<html>503 Service Unavailable</html>');
          }
          const body = chunks.length ? Buffer.concat(chunks) : undefined;
          const headers: Record<string, string> = {};
          for (const h of ['authorization', 'content-type']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
          fetch(`${live.httpUrl}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body ? { body } : {}) })
            .then(async (answer) => {
              res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
              res.end(Buffer.from(await answer.arrayBuffer()));
            })
            .catch(() => res.destroy());
        });
      });
      await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
      try {
        const report = await runSimulation({ server: url, token: live.server.adminToken, lockers: 1, parcels: 3, seed: 5 });
        expect(report.problems).toEqual([]);
        expect(report.violations).toEqual([]);
        expect(report.parcels).toMatchObject({ booked: 3, pickedUp: 3, failed: 0 });
        expect(refused).toBe(4);
        expect(report.connections.readRetries).toBeGreaterThanOrEqual(4);
      } finally {
        gateway.closeAllConnections();
        await new Promise<void>((r) => gateway.close(() => r()));
      }
    } finally {
      await live.close();
    }
  }, 60_000);
});
