import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { ApiClient, ApiError, ApiUnreachableError } from '../../client/http-client.js';
import { runSimulation } from '../../simulator/run-simulation.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** A URL where nothing listens: a port taken and let go again. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('--server with several URLs', () => {
  let live: TestServer;
  let dead: string;
  beforeAll(async () => {
    live = await startTestServer();
    dead = await deadUrl();
  });
  afterAll(() => live?.close());

  it('requests go round-robin and fail over from a dead server to the next', async () => {
    const api = new ApiClient(`${dead}, ${live.httpUrl}/`, live.server.adminToken);
    expect(api.baseUrls).toEqual([dead, live.httpUrl]);
    for (let i = 0; i < 4; i++) expect((await api.get<{ items: unknown[] }>('/v1/lockers')).items).toEqual([]);
    // Every other request starts at the dead one and moves on.
    expect(api.failovers).toBe(2);
  });

  it('an answer from a live server is not a reason to fail over, and no live server is a coded error', async () => {
    const api = new ApiClient([dead, live.httpUrl], live.server.adminToken);
    await expect(api.get('/v1/lockers/lk_nope')).rejects.toBeInstanceOf(ApiError);
    await expect(new ApiClient([dead], 'x').get('/v1/lockers')).rejects.toMatchObject({ code: 'SIM_SERVER_UNREACHABLE' });
    await expect(new ApiClient([dead], 'x').get('/v1/lockers')).rejects.toBeInstanceOf(ApiUnreachableError);
  });

  it('a whole run against "dead,live" goes through: registration, enrolment, bookings and codes fail over', async () => {
    const report = await runSimulation({ server: `${dead},${live.httpUrl}`, token: live.server.adminToken, lockers: 3, parcels: 9, seed: 2 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 9, pickedUp: 9, failed: 0 });
    expect(report.connections.failovers).toBeGreaterThan(0);
  }, 60_000);
});
