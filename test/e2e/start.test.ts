import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Promise<string> {
  child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Use it as')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child!.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
}

describe('npm start', () => {
  it('creates the data folder on first start, prints where it listens and the admin token once', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-start-'));
    const data = path.join(dir, 'data');
    const banner = await start({ DATA_DIR: data, PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'warn' });
    const api = /API:\s+(http:\/\/\S+)/.exec(banner)?.[1];
    expect(/MQTT:\s+mqtt:\/\/127\.0\.0\.1:\d+/.test(banner)).toBe(true);
    const token = readFileSync(path.join(data, 'secrets', 'admin-token'), 'utf8').trim();
    expect(banner).toContain(token);
    expect(statSync(path.join(data, 'secrets', 'admin-token')).mode & 0o077).toBe(0);
    expect(statSync(path.join(data, 'lockstep.sqlite')).isFile()).toBe(true);
    const res = await fetch(`${api}/v1/lockers`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    child?.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));

    // Second start: same data, the token is not printed again.
    const second = await start({ DATA_DIR: data, PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'warn' });
    expect(second).not.toContain(token);
    expect(second).toContain('secrets/admin-token');
  }, 60_000);

  it('refuses a bad configuration with a coded error and exit code 2', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => proc.on('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('CONFIG_INVALID');
    expect(err).toContain('PORT');
  }, 30_000);
});
