import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetWills, type StoredWill } from '../../server/broker/fleet-wills.js';
import { redisAddress } from '../../server/broker/redis-fleet.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { ApiClient } from '../../client/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

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

async function drain(stream: AsyncGenerator<StoredWill>): Promise<StoredWill[]> {
  const out: StoredWill[] = [];
  for await (const w of stream) out.push(w);
  return out;
}

describe('the fleet will store (Redis hashes in place of one list)', () => {
  it('keeps one will per locker across brokers; a sweep takes only dead brokers\' wills, each once', async () => {
    await conn.flushdb();
    const a = fleetWills(conn, () => 'broker-a');
    const b = fleetWills(conn, () => 'broker-b');
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

    // B sweeps: A is no longer heard from. Only A's remaining will comes out, as aedes publishes it.
    const swept = await drain(b.streamWill({ 'broker-b': Date.now() }));
    expect(swept.map((w) => [w.clientId, w.brokerId, w.payload.toString(), w.topic, w.qos, w.retain, w.cmd])).toEqual([
      ['L4', 'broker-a', 'four', 'lockers/four/status', 1, true, 'publish'],
    ]);
    // Taken: a second sweep finds nothing, and the dead broker is forgotten.
    expect(await drain(b.streamWill({ 'broker-b': Date.now() }))).toEqual([]);
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
    const dead = fleetWills(conn, () => 'dead');
    for (let i = 0; i < 2000; i++) await dead.putWill({ id: `L${i}` }, will(String(i)));
    const alive = { x: Date.now(), y: Date.now() };
    const [x, y] = await Promise.all([drain(fleetWills(conn, () => 'x').streamWill(alive)), drain(fleetWills(conn, () => 'y').streamWill(alive))]);
    const ids = [...x, ...y].map((w) => w.clientId);
    expect(ids).toHaveLength(2000);
    expect(new Set(ids).size).toBe(2000);
    expect(await conn.hlen('lockstep:wills:dead')).toBe(0);
    expect(await conn.hlen('lockstep:will-owner')).toBe(0);
  });
});

describe('a server process killed (SIGKILL) in a fleet', () => {
  it('another process publishes its lockers\' wills (offline); a locker that came back stays online', async () => {
    await conn.flushdb();
    pgc = await startPostgres();
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-wills-'));
    const env = {
      HOST: '127.0.0.1',
      DATA_DIR: path.join(dir, 'server'),
      ADMIN_TOKEN,
      DATABASE_URL: await pgc.createDatabase(),
      REDIS_URL: redis.url,
      // Dead after 3 silent periods, swept every 4: about 2 s here, minutes in production (60 s by default).
      FLEET_HEARTBEAT_MS: '300',
      HEARTBEAT_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    const [portA, mqttA] = [await freePort(), await freePort()];
    servers.push(await startServerProcess('a', { ...env, MQTT_PORT: String(mqttA) }, portA));
    servers.push(await startServerProcess('b', { ...env, MQTT_PORT: String(await freePort()) }));
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const apiA = new ApiClient(a.url, ADMIN_TOKEN);
    const apiB = new ApiClient(b.url, ADMIN_TOKEN);
    // Both enrolled through A, so both connect to A's broker.
    const back = await startBrokerLocker(apiA, dir, [{ id: 'A1', size: 'S' }]);
    const away = await startBrokerLocker(apiA, dir, [{ id: 'A1', size: 'S' }]);
    lockers.push(back, away);
    const online = async (id: string) => (await apiB.get<LockerView>(`/v1/lockers/${id}`)).online;
    for (const l of [back, away]) await expect.poll(() => online(l.id), { timeout: 20_000, message: 'the locker to come online' }).toBe(true);
    expect(Number(await conn.hlen('lockstep:will-owner'))).toBe(2);

    // A dies without a word: no will goes out from A. One locker stays away; the other waits for A to return.
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    await away.agent.stop();
    servers.push(await startServerProcess('a2', { ...env, MQTT_PORT: String(mqttA) }, portA));

    // Within a few heartbeat periods a survivor publishes the wills A left: the locker that stayed away is offline.
    await expect.poll(() => online(away.id), { timeout: 30_000, message: 'the away locker to be marked offline by its will' }).toBe(false);
    await expect.poll(() => online(back.id), { timeout: 30_000, message: 'the locker back on the restarted process to be online' }).toBe(true);
    // Its own will, from before the kill, cannot come later and mark it offline: several sweeps on, it is online.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await online(back.id)).toBe(true);
    expect(await conn.hget('lockstep:will-owner', back.id)).not.toBeNull();
    expect(await conn.hexists('lockstep:will-owner', away.id)).toBe(0);
  }, 120_000);
});
