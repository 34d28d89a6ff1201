import { spawn, type ChildProcess } from 'node:child_process';
import { expect, vi } from 'vitest';
import { freePort } from '../helpers/free-port.js';

export interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
}

/** `npm start` as an operator runs it, one of several processes on one database and one broker. */
export async function startServerProcess(name: string, env: Record<string, string>, port?: number): Promise<ServerProcess> {
  port ??= await freePort();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), INSTANCE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  // A server that exits fails the wait at once (a hook: vi.waitFor, expect.poll is for tests).
  const exited = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`server ${name} exited: ${out}`))));
  exited.catch(() => undefined);
  const ready = async () => expect(await fetch(`${url}/readyz`).then((r) => r.ok, () => false), `server ${name} to be ready`).toBe(true);
  await Promise.race([exited, vi.waitFor(ready, { timeout: 60_000, interval: 10 })]);
  return { name, url, child, output: () => out };
}
