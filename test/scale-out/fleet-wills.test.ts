import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetWills, type FleetWillOptions, type FleetWillStore, type StoredWill } from '../../server/broker/fleet-wills.js';
import { redisAddress } from '../../server/broker/redis-fleet.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { ApiClient } from '../../client/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { TcpProxy } from '../../simulator/tcp-proxy.js';

const ADMIN_TOKEN = 'fleet-wills-admin-token-0123456789abcdef';

let redis: TestRedis;
let pgc: TestPostgres | undefined;
let conn: Redis;
let dir: string | undefined;
const servers: ServerProcess[] = [];
const lockers: BrokerLocker[] = [];

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redisAddress(redis.url));
}, 60_000);

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.stop().catch(() => undefined)));
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : undefined)));
  conn?.disconnect();
  await redis?.stop();
  await pgc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const will = (text: string) => ({ topic: `lockers/${text}/status`, payload: Buffer.from(text), qos: 1, retain: true });

const stores: FleetWillStore[] = [];
const store = (id: string, connectedHere?: FleetWillOptions['connectedHere']) => {
  const s = fleetWills(conn, () => id, { heartbeatMs: 1000, ...(connectedHere ? { connectedHere } : {}) });
  stores.push(s);
  return s;
};
afterAll(async () => {
  for (const s of stores) await s.stop();
});

/** What aedes does with each will a sweep yields: publishes it (here: records it), then deletes it by its broker's id. */
async function sweep(by: FleetWillStore, brokers: Record<string, number>, deleteAfter = true): Promise<StoredWill[]> {
  const out: StoredWill[] = [];
  for await (const w of by.streamWill(brokers)) {
    out.push(w);
    if (deleteAfter) await by.delWill({ id: w.clientId, brokerId: w.brokerId });
  }
  return out;
}

describe('the fleet will store (Redis hashes in place of one list)', () => {
  it('keeps one will per locker across brokers; a sweep takes only dead brokers\' wills, each once', async () => {
    await conn.flushdb();
    const a = store('broker-a');
    const b = store('broker-b');
    await a.putWill({ id: 'L1' }, will('one'));
    await a.putWill({ id: 'L2' }, will('two'));
    await b.putWill({ id: 'L3' }, will('three'));
    expect((await a.getWill({ id: 'L1' }))?.payload.toString()).toBe('one');

    // L1 connects to B (A died): B's connect first deletes the previous will wherever it is, then puts its own.
    expect((await b.delWill({ id: 'L1' }))?.brokerId).toBe('broker-a');
    await b.putWill({ id: 'L1' }, will('one-again'));
    // Put again without the delete (as a put racing a sweep would be): still one will, the newest.
    await a.putWill({ id: 'L2' }, will('two-again'));
    await b.putWill({ id: 'L2' }, will('two-on-b'));
    await a.putWill({ id: 'L4' }, will('four'));

    // A dies: its alive key goes (Redis expires it 3 periods on). B sweeps: A is no longer heard from (B's own id
    // is skipped even if aedes has not heard its own heartbeat). Only A's remaining will comes out, as aedes publishes it.
    await a.stop();
    const swept = await sweep(b, {});
    expect(swept.map((w) => [w.clientId, w.brokerId, w.payload.toString(), w.topic, w.qos, w.retain, w.cmd])).toEqual([
      ['L4', 'broker-a', 'four', 'lockers/four/status', 1, true, 'publish'],
    ]);
    // Deleted once published: a second sweep finds nothing, and the dead broker is forgotten.
    expect(await sweep(b, {})).toEqual([]);
    expect(await conn.smembers('lockstep:will-brokers')).toEqual(['broker-b']);
    // aedes deletes a published will by the dead broker's id: B's wills of the same lockers stay.
    expect(await b.delWill({ id: 'L1', brokerId: 'broker-a' })).toBeNull();
    expect((await b.getWill({ id: 'L1' }))?.payload.toString()).toBe('one-again');
    expect((await b.getWill({ id: 'L2' }))?.payload.toString()).toBe('two-on-b');
    // A clean disconnect from B deletes B's will; the owner index follows.
    expect((await b.delWill({ id: 'L3', brokerId: 'broker-b' }))?.payload.toString()).toBe('three');
    expect(await conn.hkeys('lockstep:will-owner')).toEqual(expect.arrayContaining(['L1', 'L2']));
    expect(await conn.hexists('lockstep:will-owner', 'L3')).toBe(0);
    // Nothing in aedes-persistence-redis' own list.
    expect(await conn.exists('will')).toBe(0);
  });

  it('two survivors sweeping one dead broker at once publish each of its wills exactly once', async () => {
    await conn.flushdb();
    const dead = store('dead');
    for (let i = 0; i < 2000; i++) await dead.putWill({ id: `L${i}` }, will(String(i)));
    await dead.stop();
    const alive = { x: Date.now(), y: Date.now() };
    const [x, y] = await Promise.all([sweep(store('x'), alive), sweep(store('y'), alive)]);
    const ids = [...x, ...y].map((w) => w.clientId);
    expect(ids).toHaveLength(2000);
    expect(new Set(ids).size).toBe(2000);
    expect(await conn.hlen('lockstep:wills:dead')).toBe(0);
    expect(await conn.hlen('lockstep:will-owner')).toBe(0);
  });

  it('a will claimed by a survivor that died before publishing it goes out at the next sweep after the lease', async () => {
    await conn.flushdb();
    const dead = store('dead');
    await dead.putWill({ id: 'L1' }, will('one'));
    await dead.stop();
    // X claims it and dies (never publishes, never deletes): Y sweeping within the lease leaves it alone.
    expect((await sweep(store('x'), {}, false)).map((w) => w.clientId)).toEqual(['L1']);
    const y = store('y');
    expect(await sweep(y, {})).toEqual([]);
    const lease = await conn.pttl('lockstep:will-claim:dead:L1');
    expect(lease).toBeGreaterThan(0);
    expect(lease).toBeLessThanOrEqual(5000);
    // The lease ends (as Redis expires the claim): the will is still there, and Y publishes it.
    await conn.del('lockstep:will-claim:dead:L1');
    expect((await sweep(y, {})).map((w) => w.payload.toString())).toEqual(['one']);
    expect(await conn.hlen('lockstep:wills:dead')).toBe(0);
  });

  it('sweeps no broker that keeps its alive key, whatever aedes heard lately', async () => {
    await conn.flushdb();
    const quiet = fleetWills(conn, () => 'quiet', { heartbeatMs: 200 });
    stores.push(quiet);
    await quiet.putWill({ id: 'L1' }, will('one'));
    await expect.poll(() => conn.exists('lockstep:will-alive:quiet'), { timeout: 2000 }).toBe(1);
    // A process just started has heard nobody yet: the alive key keeps it from publishing a live broker's wills.
    expect(await sweep(store('fresh'), {})).toEqual([]);
    // Stopped (or dead: the key expires after 3 periods): now its wills go out.
    await quiet.stop();
    expect((await sweep(store('fresh2'), {})).map((w) => w.clientId)).toEqual(['L1']);
  });

  it('is alive from its first will on, not only after a heartbeat period', async () => {
    await conn.flushdb();
    const slow = fleetWills(conn, () => 'slow', { heartbeatMs: 60_000 });
    stores.push(slow);
    await slow.putWill({ id: 'L1' }, will('one'));
    await expect.poll(() => conn.pttl('lockstep:will-alive:slow'), { timeout: 2000 }).toBeGreaterThan(60_000);
    // A process that started just now and has heard no heartbeat yet does not take it for dead.
    expect(await sweep(store('fresh'), {})).toEqual([]);
  });

  it('a connection taking over a client id in the same process keeps its will when the old one closes', async () => {
    await conn.flushdb();
    const here = new Map<string, { will?: unknown }>([['L1', { will: will('old') }]]);
    const a = store('broker-a', (id) => here.get(id));
    await a.putWill({ id: 'L1' }, will('old'));
    // The new connection: aedes deletes the old will, puts the new one, then closes the old connection, whose close
    // deletes the will by this broker's id.
    await a.delWill({ id: 'L1' });
    await a.putWill({ id: 'L1' }, will('new'));
    expect(await a.delWill({ id: 'L1', brokerId: 'broker-a' })).toBeNull();
    expect((await a.getWill({ id: 'L1' }))?.payload.toString()).toBe('new');
    // The new connection's own close (nothing left to take over) deletes it.
    here.delete('L1');
    expect((await a.delWill({ id: 'L1', brokerId: 'broker-a' }))?.payload.toString()).toBe('new');
  });

  it('with Redis unreachable, the delete at a connect answers "none" (the connect goes on); other calls fail', async () => {
    const down = new Redis({ ...redisAddress(`redis://127.0.0.1:${await freePort()}`), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const s = fleetWills(down, () => 'broker-a', { heartbeatMs: 1000 });
    stores.push(s);
    expect(await s.delWill({ id: 'L1' })).toBeNull();
    await expect(s.delWill({ id: 'L1', brokerId: 'broker-a' })).rejects.toThrow();
    await expect(s.putWill({ id: 'L1' }, will('one'))).rejects.toThrow();
    down.disconnect();
  });
});

describe('a server process killed (SIGKILL) in a fleet', () => {
  it('a survivor publishes the wills of its lockers that stayed away (offline), never that of one back on another process', async () => {
    await conn.flushdb();
    pgc = await startPostgres();
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-wills-'));
    const env = {
      HOST: '127.0.0.1',
      DATA_DIR: path.join(dir, 'server'),
      ADMIN_TOKEN,
      DATABASE_URL: await pgc.createDatabase(),
      REDIS_URL: redis.url,
      // Dead after 3 silent periods, swept every 4: 3-4 s here, minutes in production (60 s by default).
      FLEET_HEARTBEAT_MS: '1000',
      HEARTBEAT_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    const [mqttA, mqttB] = [await freePort(), await freePort()];
    servers.push(await startServerProcess('a', { ...env, MQTT_PORT: String(mqttA) }));
    servers.push(await startServerProcess('b', { ...env, MQTT_PORT: String(mqttB) }));
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const apiA = new ApiClient(a.url, ADMIN_TOKEN);
    const apiB = new ApiClient(b.url, ADMIN_TOKEN);
    // Both connect to A, through one relay (the load balancer of a deployment).
    const relay = new TcpProxy('127.0.0.1', mqttA);
    const relayUrl = await relay.listen();
    const back = await startBrokerLocker(apiA, dir, [{ id: 'A1', size: 'S' }], relayUrl);
    const away = await startBrokerLocker(apiA, dir, [{ id: 'A1', size: 'S' }], relayUrl);
    lockers.push(back, away);
    const online = async (id: string) => (await apiB.get<LockerView>(`/v1/lockers/${id}`)).online;
    for (const l of [back, away]) await expect.poll(() => online(l.id), { timeout: 20_000, message: 'the locker to come online' }).toBe(true);
    const connectedToB = async () => {
      const text = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
      return Number(/^lockstep_mqtt_connected_lockers (\d+)/m.exec(text)?.[1]);
    };
    expect(await connectedToB()).toBe(0);

    // A dies without a word: no will goes out from A. One locker stays away; the other reconnects at once, now to
    // B, long before B counts A as dead (3 s).
    relay.retarget(mqttB);
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    await away.agent.stop();
    await expect.poll(connectedToB, { timeout: 10_000, message: 'the locker back, on B' }).toBe(1);

    // Watch the locker that came back while B sweeps A's wills, and for two sweeps after: its will from before
    // the kill must never go out (it would show it offline until its next heartbeat).
    const seen: boolean[] = [];
    const watch = setInterval(() => void online(back.id).then((o) => seen.push(o), () => undefined), 100);
    try {
      await expect.poll(() => online(away.id), { timeout: 30_000, message: 'the away locker to be marked offline by its will' }).toBe(false);
      await new Promise((r) => setTimeout(r, 8000));
    } finally {
      clearInterval(watch);
    }
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.filter((o) => !o)).toEqual([]);
    expect(await conn.hexists('lockstep:will-owner', away.id)).toBe(0);
    expect(await conn.hexists('lockstep:will-owner', back.id)).toBe(1);
    await relay.close();
  }, 120_000);
});
