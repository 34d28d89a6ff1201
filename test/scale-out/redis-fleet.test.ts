import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandView } from '../../shared/api/commands.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import mqtt from 'mqtt';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';

let pg: TestPostgres;
let redis: TestRedis;
let dir: string;
const servers: TestServer[] = [];
const lockers: BrokerLocker[] = [];

/** A server's /metrics, as lines of Prometheus text. */
async function metricLines(server: TestServer): Promise<string[]> {
  const text = await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${server.server.adminToken}` } }).then((r) => r.text());
  return text.split('\n');
}

/** Device messages a server handled itself (its lockstep_mqtt_messages_received_total, every kind). */
async function handled(server: TestServer): Promise<number> {
  return (await metricLines(server))
    .filter((l) => l.startsWith('lockstep_mqtt_messages_received_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** lockstep_mqtt_fleet_routed_total of a server: its broker's messages delivered there alone, or through Redis. */
async function routed(server: TestServer): Promise<{ local: number; fleet: number }> {
  const lines = await metricLines(server);
  const value = (route: string) => Number(lines.find((l) => l.startsWith(`lockstep_mqtt_fleet_routed_total{route="${route}"}`))?.split(' ').at(-1) ?? NaN);
  return { local: value('local'), fleet: value('fleet') };
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-fleet-'));
  const databaseUrl = await pg.createDatabase();
  // Two servers of one deployment (each its own aedes broker on its own port), one Postgres, one Redis. The first
  // makes the shared secrets and runs the migrations. (test/scale-out/cluster.test.ts runs them as real processes.)
  for (const instanceId of ['server-a', 'server-b']) {
    servers.push(await startTestServer({ databaseUrl, redisUrl: redis.url, instanceId, heartbeatMs: 2000 }, undefined, undefined, { dir }));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.stop().catch(() => undefined)));
  for (const s of servers) await s.close();
  await redis?.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('two server processes whose embedded brokers are one fleet over Redis', () => {
  it('a locker connected to process A runs a command sent through process B, and each device message is handled once, where it arrived', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    // Enrolled through A, so it connects to A's broker (enrolment hands out the broker of the process that enrolled it).
    const onA = await startBrokerLocker(a.api, dir, [{ id: 'A1', size: 'S' }, { id: 'A2', size: 'S' }]);
    lockers.push(onA);
    await expect.poll(() => onA.agent.ready, { timeout: 15_000, message: 'the locker on A to get its configuration' }).toBe(true);
    expect(await handled(b)).toBe(0);
    const handledByA = await handled(a);
    expect(handledByA).toBeGreaterThan(0);

    // Its subscriptions live in A's emitter alone: no Redis channel per locker topic (a SUBSCRIBE at each connect,
    // an UNSUBSCRIBE at each disconnect); each process hears the lockers' topics through one pattern.
    const inspect = new Redis(redis.url);
    try {
      expect(await inspect.pubsub('CHANNELS', 'lockers/*')).toEqual([]);
    } finally {
      inspect.disconnect();
    }

    // The locker's own messages and the server's answers to it stayed in A; nothing was sent to B for it.
    const routedA = await routed(a);
    expect(routedA.local).toBeGreaterThan(0);
    const routedB = await routed(b);

    // Through B's API: B commits the command and publishes it; Redis carries it to A, where the locker is.
    const sent = await b.api.post<CommandView>(`/v1/lockers/${onA.id}/commands`, { type: 'set_service', compartmentId: 'A2', inService: false, reason: 'fleet test' });
    const id = sent.id;
    await expect
      .poll(async () => (await b.api.get<{ commands: CommandView[] }>(`/v1/lockers/${onA.id}/commands`)).commands.find((c) => c.id === id)?.state, {
        timeout: 15_000,
        message: 'the command to succeed on the locker',
      })
      .toBe('succeeded');
    // The locker's result and events came in at A only: B handled none.
    expect(await handled(b)).toBe(0);
    // B's broker sent the command through Redis (the locker is not B's); A's answers to the locker stayed in A.
    expect((await routed(b)).fleet).toBeGreaterThan(routedB.fleet);
    expect((await routed(a)).local).toBeGreaterThan(routedA.local);
    expect(await handled(a)).toBeGreaterThan(handledByA);

    // A second locker on B: its messages are B's alone, and every event is committed once.
    const onB = await startBrokerLocker(b.api, dir, [{ id: 'A1', size: 'S' }]);
    lockers.push(onB);
    await expect.poll(() => onB.agent.ready, { timeout: 15_000, message: 'the locker on B to get its configuration' }).toBe(true);
    await expect.poll(() => handled(b), { timeout: 10_000 }).toBeGreaterThan(0);
    for (const locker of [onA, onB]) {
      // A door forced open and shut: events the locker numbers and sends.
      locker.hardware.openDoor('A1');
      locker.hardware.closeDoor('A1');
      await expect.poll(async () => locker.store.outboxSize(), { timeout: 15_000, message: 'the outbox to drain' }).toBe(0);
      const view = await a.api.get<LockerView>(`/v1/lockers/${locker.id}`);
      expect(view.online).toBe(true);
      // Committed once: as many event rows as the locker numbered.
      expect(view.events).toEqual({ received: await locker.store.lastSeq(), lastSeq: await locker.store.lastSeq() });
    }

    // Re-enrolled through B: the old controller's connection, held by A, is closed (the revocation crosses Redis).
    expect(a.server.connectedLockers()).toBe(1);
    await b.api.post(`/v1/lockers/${onA.id}/re-enrol`, {});
    await expect.poll(() => a.server.connectedLockers(), { timeout: 10_000, message: 'A to close the revoked locker' }).toBe(0);
  }, 60_000);

  it("asks Redis nothing at a connect that can only be empty (clean sessions, none retained on a locker's own topics); the status is still retained", async () => {
    const [, b] = servers as [TestServer, TestServer];
    const inspect = new Redis(redis.url);
    const watcher = new Redis(redis.url);
    const monitor = await watcher.monitor();
    const sent: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => sent.push(args));
    try {
      const locker = await startBrokerLocker(b.api, dir, [{ id: 'A1', size: 'S' }]);
      lockers.push(locker);
      await expect.poll(() => locker.agent.ready, { timeout: 15_000, message: 'the locker to get its configuration' }).toBe(true);
      await expect.poll(() => sent.some((a) => a[0]?.toLowerCase() === 'hset' && a[1] === 'retained'), { timeout: 5000, message: 'the status to be retained' }).toBe(true);
      const named = (command: string) => sent.filter((a) => a[0]?.toLowerCase() === command);
      // What aedes-persistence-redis had sent at every connect: the stored subscriptions (HGETALL), the offline queue
      // (LRANGE), the retained message of each subscribed topic (HGET on the retained hash).
      expect(named('hgetall'), JSON.stringify(sent)).toEqual([]);
      expect(named('lrange'), JSON.stringify(sent)).toEqual([]);
      expect(named('hget').filter((a) => a[1] === 'retained'), JSON.stringify(sent)).toEqual([]);
      const retained = await inspect.hgetBuffer('retained', `lockers/${locker.id}/status`);
      expect(retained?.toString('latin1')).toContain('online');
    } finally {
      monitor.disconnect();
      watcher.disconnect();
      inspect.disconnect();
    }
  }, 60_000);

  it('refuses a locker that asks for a persistent session (clean session 0): not authorized, counted', async () => {
    const [a] = servers as [TestServer, TestServer];
    const l = await registerLocker(a.api);
    const client = mqtt.connect(a.mqttUrl, { clientId: l.id, username: l.id, password: l.device.password, protocolVersion: 4, clean: false, reconnectPeriod: 0, connectTimeout: 10_000 });
    const code = await new Promise<number>((resolve) => {
      client.once('connect', () => resolve(0));
      client.once('error', (err) => resolve(Number((err as { code?: unknown }).code ?? -1)));
    });
    client.end(true);
    expect(code).toBe(5);
    expect((await metricLines(a)).find((line) => line.startsWith('lockstep_mqtt_connections_refused_total{reason="CLEAN_SESSION_REQUIRED"}'))).toMatch(/ 1$/);
  }, 30_000);
});
