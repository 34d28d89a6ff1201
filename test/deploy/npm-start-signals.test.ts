import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive, portFree, processTree, spawnCollecting, type Spawned } from './process-tree.js';

/*
 * `npm start` as an operator runs it: npm → node dist/server/main.js. A SIGTERM or SIGINT sent to the npm process
 * alone (what a service manager or Ctrl-C does) stops the server gracefully: every process of the tree is gone
 * and both ports can be listened on again. The same for `npm run device` (npm → tsx → node).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const started: Spawned[] = [];
const dirs: string[] = [];
/** Every process seen in a tree: an orphan (its parent gone) is killed after the test even when it failed. */
const seen = new Set<number>();

beforeAll(() => {
  // What `npm install` (prepare) or `npm start` (prestart) does when the sources are newer than dist/.
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'pipe' });
}, 180_000);

afterEach(() => {
  for (const s of started.splice(0)) for (const pid of processTree(s.proc.pid!)) seen.add(pid);
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  seen.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'lockstep-signal-'));
  dirs.push(d);
  return d;
}

function npm(args: string[], env: Record<string, string>, stdin: 'ignore' | 'pipe' = 'ignore'): Spawned {
  const s = spawnCollecting('npm', args, { cwd: ROOT, env: { ...process.env, ...env }, stdin });
  started.push(s);
  return s;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
};

async function startServer(dataDir: string): Promise<{ server: Spawned; api: string; ports: number[] }> {
  const server = npm(['start'], { DATA_DIR: dataDir, PORT: '0', MQTT_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const api = (await server.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:(\d+))/))[1]!;
  const mqttPort = Number((await server.waitFor(/MQTT:\s+mqtt:\/\/127\.0\.0\.1:(\d+)/))[1]);
  await expect.poll(async () => (await fetch(`${api}/readyz`)).status).toBe(200);
  return { server, api, ports: [Number(new URL(api).port), mqttPort] };
}

/** Sends `signal` to the npm process only; then nothing of its tree is left. */
async function stopsCleanly(s: Spawned, signal: NodeJS.Signals, expectedEntry: RegExp): Promise<void> {
  const tree = processTree(s.proc.pid!);
  for (const pid of tree) seen.add(pid);
  expect(tree.some((pid) => expectedEntry.test(cmdline(pid)))).toBe(true);
  s.proc.kill(signal);
  const exit = await Promise.race([s.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
  expect(exit).not.toBe('timeout');
  await expect.poll(() => tree.filter(alive).map((pid) => `${pid} ${cmdline(pid)}`), { timeout: 5_000 }).toEqual([]);
}

describe('npm start and npm run device stop on a signal, leaving no process behind', () => {
  it('SIGTERM to the npm process stops the server gracefully and frees its ports', async () => {
    const { server, ports } = await startServer(tempDir());
    await stopsCleanly(server, 'SIGTERM', /^node dist\/server\/main\.js/);
    expect(server.output()).toContain('"signal":"SIGTERM"');
    expect(server.output()).toContain('"msg":"stopping"');
    for (const port of ports) expect(await portFree(port)).toBe(true);
  }, 90_000);

  it('SIGTERM to `npm run device` stops the agent (npm → tsx → node), SIGINT (Ctrl-C) to `npm start` the server; nothing stays behind', async () => {
    const data = tempDir();
    const { server, api } = await startServer(path.join(data, 'server'));
    const token = readFileSync(path.join(data, 'server', 'secrets', 'admin-token'), 'utf8').trim();
    const res = await fetch(`${api}/v1/lockers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Signal St', location: { lat: 52.2, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }] }),
    });
    expect(res.status).toBe(201);
    const locker = (await res.json()) as { id: string; enrolment: { token: string } };
    const device = npm(['run', 'device'], {
      LOCKER_ID: locker.id,
      API_URL: api,
      ENROLMENT_TOKEN: locker.enrolment.token,
      COMPARTMENTS: 'A1:S',
      DEVICE_DATA_DIR: path.join(data, 'device'),
      LOG_LEVEL: 'info',
    }, 'pipe');
    await device.waitFor(/"msg":"locker started"/);
    // Still running: only the signal stops it (its keypad, stdin, stays open).
    await expect.poll(() => device.output()).toMatch(/simulated locker/);
    expect(device.proc.exitCode).toBeNull();
    await stopsCleanly(device, 'SIGTERM', /device\/main\.ts/);
    await stopsCleanly(server, 'SIGINT', /^node dist\/server\/main\.js/);
    expect(server.output()).toContain('"signal":"SIGINT"');
  }, 150_000);
});
