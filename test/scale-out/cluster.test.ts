import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeConfig } from '../../server/config.js';
import { planCluster } from '../../server/cluster/cluster-plan.js';
import type { CommandView } from '../../shared/api/commands.js';
import { ApiClient } from '../../client/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';

const ADMIN_TOKEN = 'cluster-admin-token-0123456789abcdef';

describe('planCluster', () => {
  const base = { dataDir: '/tmp/x' };
  it('one per core by default; one process needs nothing shared', () => {
    expect(planCluster(makeConfig(base), 4).processes).toBe(4);
    expect(planCluster(makeConfig({ ...base, processes: 1 }), 4)).toEqual({ processes: 1, problems: [] });
  });
  it('several processes refuse SQLite and an unshared broker, naming the variables', () => {
    const { problems } = planCluster(makeConfig({ ...base, processes: 2 }), 2);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/REDIS_URL/);
    expect(planCluster(makeConfig({ ...base, processes: 2, databaseUrl: 'postgres://x/y', redisUrl: 'redis://127.0.0.1:1' }), 2).problems).toEqual([]);
  });
  it('REDIS_URL and MQTT_URL together are a configuration error', () => {
    expect(() => makeConfig({ ...base, redisUrl: 'redis://127.0.0.1:1', mqttUrl: 'mqtt://127.0.0.1:1' })).toThrow(/REDIS_URL/);
  });
});

let pgc: TestPostgres;
let redis: TestRedis;
let dir: string;
let databaseUrl: string;
let primary: ChildProcess | undefined;
let out = '';
let url = '';
const lockers: BrokerLocker[] = [];

beforeAll(async () => {
  [pgc, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-cluster-'));
  databaseUrl = await pgc.createDatabase();
  const [port, mqttPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  // `npm run start:cluster` as an operator runs it: two processes sharing both ports.
  primary = spawn(process.execPath, ['--import', 'tsx', 'server/cluster/cluster-main.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      DATA_DIR: path.join(dir, 'server'),
      ADMIN_TOKEN,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      LOCKSTEP_PROCESSES: '2',
      HEARTBEAT_MS: '2000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  primary.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  primary.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  await vi.waitFor(() => {
    if (primary?.exitCode !== null) throw new Error(`the cluster exited: ${out}`);
    expect(out).toContain('Lockstep is running: 2 processes.');
  }, { timeout: 60_000, interval: 50 });
}, 90_000);

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.stop().catch(() => undefined)));
  if (primary && primary.exitCode === null && primary.signalCode === null) {
    const exited = new Promise((r) => primary?.once('exit', r));
    primary.kill('SIGTERM');
    await exited;
  }
  await redis?.stop();
  await pgc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run start:cluster (two processes, Postgres, Redis)', () => {
  it('serves lockers and the API on shared ports, runs the scheduler in one process, and stops every worker on SIGTERM', async () => {
    const pids = [...out.matchAll(/process \d ready \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(new Set(pids).size).toBe(2);
    const api = new ApiClient(url, ADMIN_TOKEN);
    // Several lockers: the round-robin spreads their connections and the requests over both workers.
    for (let i = 0; i < 3; i++) lockers.push(await startBrokerLocker(api, dir, [{ id: 'A1', size: 'S' }]));
    await expect.poll(() => lockers.every((l) => l.agent.ready), { timeout: 20_000, message: 'every locker to get its configuration' }).toBe(true);
    for (const locker of lockers) {
      const sent = await api.post<CommandView>(`/v1/lockers/${locker.id}/commands`, { type: 'set_service', compartmentId: 'A1', inService: false, reason: 'cluster test' });
      await expect
        .poll(async () => (await api.get<{ commands: CommandView[] }>(`/v1/lockers/${locker.id}/commands`)).commands.find((c) => c.id === sent.id)?.state, { timeout: 15_000 })
        .toBe('succeeded');
    }
    // The scheduler's lease: held by one of the two workers (their instance ids end in their pids).
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const leases = await client.query<{ holder: string }>("select holder from leases where name = 'scheduler'").finally(() => client.end());
    expect(leases.rows).toHaveLength(1);
    expect(pids.map(String)).toContain(leases.rows[0]?.holder.split('-').at(-1));

    const exited = new Promise<number | null>((r) => primary?.once('exit', (code) => r(code)));
    primary?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
