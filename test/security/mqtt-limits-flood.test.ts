import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { ApiClient } from '../../client/http-client.js';
import { registerLocker, type RegisteredLocker } from '../helpers/test-server.js';
import { fixedHeader, rawClient, stream, type RawClient } from './mqtt-limits-wire.js';

const MiB = 1024 * 1024;
/** What each flood declares, and how much of it the test offers before it gives up on being cut off. */
const DECLARED = 200 * MiB;
const OFFERED = 50 * MiB;

let child: ChildProcess;
let dir: string;
let api: ApiClient;
let mqttUrl: string;
const sockets: RawClient[] = [];

/** The server process' resident memory, from the kernel. */
function rssBytes(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-flood-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, DATA_DIR: path.join(dir, 'data'), PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Use it as')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const httpUrl = /API:\s+(http:\/\/\S+)/.exec(banner)?.[1] ?? '';
  mqttUrl = /MQTT:\s+(mqtt:\/\/\S+)/.exec(banner)?.[1] ?? '';
  const token = readFileSync(path.join(dir, 'data', 'secrets', 'admin-token'), 'utf8').trim();
  api = new ApiClient(httpUrl, token);
}, 30_000);

afterAll(() => {
  for (const s of sockets) s.socket.destroy();
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(locker: RegisteredLocker): Promise<RawClient> {
  const c = await rawClient(mqttUrl);
  sockets.push(c);
  const password = Buffer.from(await locker.device.sign());
  c.socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: locker.id, username: locker.id, password, clean: true, keepalive: 60 }));
  await expect.poll(() => c.received().subarray(0, 4).toString('hex'), { message: 'CONNACK accepted' }).toBe('20020000');
  return c;
}

describe('floods before and after sign-in, against a real server process', () => {
  it('an oversized PUBLISH from an enrolled locker is cut off unacknowledged, anonymous 200 MiB CONNECTs are cut off after their header, memory stays flat, a normal locker still works', async () => {
    const attacker = await registerLocker(api);
    const honest = await registerLocker(api);

    // A complete 2 MiB QoS 1 PUBLISH (the protocol allows 64 KiB): closed, never PUBACKed.
    const locker = await signIn(attacker);
    const big = generate({ cmd: 'publish', topic: `lockers/${attacker.id}/events`, payload: Buffer.alloc(2 * MiB, 0x20), qos: 1, messageId: 1, retain: false, dup: false });
    locker.socket.write(big);
    const puback = () => locker.received().includes(Buffer.from([0x40, 0x02, 0x00, 0x01]));
    await expect.poll(() => locker.isClosed() || puback(), { message: 'a PUBACK or the end' }).toBe(true);
    expect(puback(), 'a PUBACK').toBe(false);
    expect(locker.isClosed()).toBe(true);

    // The locker declares 200 MiB and streams: cut off long before the offered 50 MiB.
    const again = await signIn(attacker);
    const publishHeader = Buffer.concat([fixedHeader(0x32, DECLARED), Buffer.from([0, 4]), Buffer.from('x/ev'), Buffer.from([0, 2])]);
    expect(await stream(again, publishHeader, OFFERED)).toBeLessThan(16 * MiB);
    await again.closed;

    const before = rssBytes();
    // Two anonymous connections, each declaring a 200 MiB CONNECT and streaming its body.
    const floods = [await rawClient(mqttUrl), await rawClient(mqttUrl)];
    sockets.push(...floods);
    const sent = await Promise.all(floods.map((c) => stream(c, fixedHeader(0x10, DECLARED), OFFERED)));
    await Promise.all(floods.map((c) => c.closed));
    // What the sockets took is the kernel's buffers on both sides, not the server reading on.
    for (const n of sent) expect(n).toBeLessThan(16 * MiB);
    const grown = rssBytes() - before;
    console.log(`flood: sockets accepted ${sent.map((n) => (n / MiB).toFixed(1)).join(' + ')} MiB before the server closed them; server RSS grew ${(grown / MiB).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(30 * MiB);

    // The broker still serves a locker that keeps to the protocol.
    const client = await mqtt.connectAsync(mqttUrl, { clientId: honest.id, username: honest.id, password: honest.device.password, reconnectPeriod: 0, protocolVersion: 4 });
    try {
      const heartbeat = { v: 1, bootId: 'flood', at: Date.now(), lastSeq: 0, outbox: 0, appliedVersion: 0 };
      await client.publishAsync(`lockers/${honest.id}/heartbeat`, JSON.stringify(heartbeat), { qos: 1 });
      await expect.poll(async () => (await api.get<{ lastSeenAt: number | null }>(`/v1/lockers/${honest.id}`)).lastSeenAt, { message: 'the heartbeat recorded' }).not.toBeNull();
    } finally {
      await client.endAsync(true);
    }
  }, 60_000);
});
