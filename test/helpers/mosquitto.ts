import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

/** A throwaway Mosquitto with the dynamic-security plugin on a loopback port, for one test file. */
export interface TestMosquitto {
  url: string;
  port: number;
  /** The dynamic-security admin (the server's own account). */
  admin: { username: string; password: string };
  stop(): Promise<void>;
}

const PLUGIN_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/mosquitto_dynamic_security.so'];

/** Debian's plugin path; asks dpkg when it is elsewhere. Throws, loudly, when Mosquitto is not installed. */
export function dynsecPlugin(): string {
  const found = PLUGIN_CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  const listed = spawnSync('dpkg', ['-L', 'mosquitto'], { encoding: 'utf8' }).stdout?.split('\n').find((l) => l.endsWith('mosquitto_dynamic_security.so'));
  if (listed) return listed;
  throw new Error('Mosquitto with its dynamic-security plugin is not installed: run .ci/system-deps.sh');
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
}

export async function startMosquitto(): Promise<TestMosquitto> {
  const plugin = dynsecPlugin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-mosquitto-'));
  chmodSync(dir, 0o755);
  const admin = { username: 'lockstep-admin', password: `pw-${Math.random().toString(36).slice(2)}-${Date.now()}` };
  const dynsecFile = path.join(dir, 'dynamic-security.json');
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, admin.username, admin.password], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
  chmodSync(dynsecFile, 0o644);
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${plugin}`,
      `plugin_opt_config_file ${dynsecFile}`,
      'persistence false',
      'max_queued_messages 100000',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  // As root, mosquitto drops to the `mosquitto` user: the folder must stay readable and writable for it.
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'mosquitto', dir]);
  let output = '';
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  await waitForPort(port, child, () => output);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    admin,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
