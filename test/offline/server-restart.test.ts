import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { makeConfig } from '../../server/config.js';
import { createServer, type LockstepServer } from '../../server/create-server.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { ApiClient } from '../../client/http-client.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const FLEET = 120;
let t: TestServer;
let second: LockstepServer | undefined;
const lockers: InProcessLocker[] = [];

beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < FLEET; i++) {
    lockers.push(
      await startSimLocker({
        api: t.api,
        name: `Fleet ${i}`,
        location: { lat: 52, lon: 21 },
        compartments: [{ id: 'A1', size: 'S' }],
        dataDir: t.dir,
        clock: systemClock,
        random: seededRandom(1000 + i),
      }),
    );
  }
  await vi.waitFor(() => expect(lockers.every((l) => l.agent.ready && l.agent.sync.connected), 'the fleet to connect').toBe(true), { timeout: 30_000, interval: 10 });
}, 90_000);

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.stop()));
  await second?.stop();
  await t.close().catch(() => undefined);
}, 60_000);

describe('a server restart with the whole fleet connected', () => {
  it('is absorbed: every locker comes back, spread out by jitter, and nothing recorded meanwhile is lost', async () => {
    const mqttPort = Number(new URL(t.mqttUrl).port);
    const httpPort = Number(new URL(t.httpUrl).port);
    const connectsBefore = lockers.map((l) => l.agent.sync.stats.connects);
    await t.server.stop();
    await expect.poll(() => lockers.every((l) => !l.agent.sync.connected), { timeout: 15_000, message: 'every locker to notice' }).toBe(true);
    // While the server is down, every locker records something (a wrong code at the keypad).
    for (const l of lockers) expect(await l.agent.enterCode('99999999', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });

    await new Promise((r) => setTimeout(r, 1000));
    second = await createServer(makeConfig({ port: httpPort, mqttPort, dataDir: t.dir, logLevel: 'silent' }));
    await second.start();
    const back = Date.now();
    const reconnectedAt = new Map<string, number>();
    await expect.poll(() => {
      lockers.forEach((l, i) => {
        if (!reconnectedAt.has(l.id) && l.agent.sync.stats.connects > (connectsBefore[i] ?? 0) && l.agent.sync.connected) reconnectedAt.set(l.id, Date.now() - back);
      });
      return reconnectedAt.size === lockers.length;
    }, { timeout: 60_000, message: 'every locker to reconnect' }).toBe(true);

    const delays = [...reconnectedAt.values()].sort((a, b) => a - b);
    const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0;
    const spread = { p10: at(0.1), p50: at(0.5), p90: at(0.9), max: at(1) };
    console.log(`reconnect after server restart, ${FLEET} lockers: p10 ${spread.p10} ms, p50 ${spread.p50} ms, p90 ${spread.p90} ms, max ${spread.max} ms`);
    // Full jitter: the reconnects are spread over seconds, not a spike.
    expect(spread.p90 - spread.p10).toBeGreaterThan(500);

    const api = new ApiClient(`http://127.0.0.1:${httpPort}`, t.server.adminToken);
    await expect.poll(async () => {
      const views = (await api.get<{ items: LockerView[] }>('/v1/lockers?limit=500')).items;
      return lockers.every((l) => views.find((v) => v.id === l.id)?.events.received === l.tap.seqs.size);
    }, { timeout: 30_000, message: 'every event recorded during the outage to be committed' }).toBe(true);
    expect(second.stats.eventsApplied).toBe(lockers.length);
  }, 120_000);
});
