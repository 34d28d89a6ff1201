/**
 * A full disk, for real: the server's data folder on a small tmpfs, filled to the last page by a filler file.
 * Needs root (mount); the suite runs as root. Elsewhere it is skipped with a loud message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { ManualClock } from '../../shared/clock.js';
import { decoderFor, encode } from '../../shared/codec.js';
import { EventAckMessage, type DeviceEvent } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'lockstep-full-'));
const mounted = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return true;
  } catch (err) {
    return `mount failed: ${String(err)}`;
  }
})();
if (mounted !== true) {
  rmSync(mountPoint, { recursive: true, force: true });
  console.warn(`\n!!! SKIPPED test/server/storage-full.test.ts: cannot mount a tmpfs (${mounted}); the disk-full path is NOT tested !!!\n`);
}

const PROBE_MS = 700;
const filler = path.join(mountPoint, 'filler');

/** Writes the filler until the file system refuses (ENOSPC): not one page is left. */
function fillDisk(): void {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // The last pages a partial write left over.
  const tail = openSync(filler, 'a');
  try {
    for (;;) writeSync(tail, Buffer.alloc(512, 1));
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(tail);
  }
}

/** Every log line, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, sink) };
}

const decodeAck = decoderFor(EventAckMessage);

describe.skipIf(mounted !== true)('a full disk', () => {
  const clock = new ManualClock(Date.now());
  const { lines, logger } = capture();
  let t: TestServer;
  let locker: RegisteredLocker;
  let device: MqttClient;
  const acks: number[][] = [];

  beforeAll(async () => {
    t = await startTestServer({ storageProbeMs: PROBE_MS }, clock, logger, { dir: path.join(mountPoint, 'data') });
    locker = await registerLocker(t.api);
    device = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: locker.device.password, protocolVersion: 4, reconnectPeriod: 0 });
    device.on('message', (topic, payload) => {
      const m = decodeAck(payload);
      if (topic === topics.eventsAck(locker.id) && m.ok) acks.push(m.value.seqs);
    });
    await device.subscribeAsync(topics.eventsAck(locker.id), { qos: 1 });
  }, 30_000);

  afterAll(async () => {
    try {
      await device?.endAsync(true);
      await t?.close();
    } finally {
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  const book = (reference: string) =>
    fetch(`${t.httpUrl}/v1/parcels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference }),
    });
  const parcels = async () => Number((await t.server.ctx.db.selectFrom('parcels').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const deviceEvents = async () => Number((await t.server.ctx.db.selectFrom('device_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const events = (from: number, n: number): DeviceEvent[] =>
    Array.from({ length: n }, (_, i) => ({ seq: from + i, id: `e${from + i}`, bootId: 'boot1', at: clock.now(), type: 'door.closed' as const, compartmentId: 'A1' }));
  const readyz = async () => {
    const res = await fetch(`${t.httpUrl}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; reason?: string; checks: Record<string, string> } };
  };

  it('refuses bookings with 503 STORAGE_FULL, is not ready, names SQLITE_FULL in the log, acks no batch; recovers by itself', async () => {
    expect((await readyz()).status).toBe(200);
    expect(await parcels()).toBe(0);
    fillDisk();

    // A booking: a coded 503 with Retry-After, and nothing created.
    const refused = await book('FULL-1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STORAGE_FULL');
    expect(await parcels()).toBe(0);

    // Not ready while writes fail, though the database still answers reads.
    expect(await readyz()).toEqual({ status: 503, body: { status: 'not_ready', checks: { database: 'failing', broker: 'ok' }, reason: 'STORAGE_FULL' } });

    // The log names the cause; the rollback SQLite refused (it had rolled back itself) is at most a debug line.
    const named = lines.filter((l) => (l.level as number) >= 50 && JSON.stringify(l).includes('SQLITE_FULL'));
    expect(named.map((l) => l.msg)).toContain("storage refused the request's writes");
    expect(lines.filter((l) => (l.level as number) > 20 && JSON.stringify(l).includes('cannot rollback'))).toEqual([]);

    // A device batch is not acknowledged (its commit failed): the locker keeps it and sends it again.
    const failedBefore = t.server.stats.mqttRejected.get('HANDLER_FAILED') ?? 0;
    await device.publishAsync(topics.events(locker.id), encode({ v: 1, events: events(1, 3) }), { qos: 1 });
    await expect.poll(() => t.server.stats.mqttRejected.get('HANDLER_FAILED') ?? 0, { message: 'the batch to fail' }).toBeGreaterThan(failedBefore);
    expect(acks).toEqual([]);
    expect(await deviceEvents()).toBe(0);
    expect(await readyz()).toMatchObject({ status: 503, body: { reason: 'STORAGE_FULL' } });

    // The scheduler's periodic jobs run their updates (most change no row, so they touch no page): still not ready.
    await t.server.scheduler.runOnce();
    expect(await readyz()).toMatchObject({ status: 503, body: { reason: 'STORAGE_FULL' } });

    // Space returns. Nothing writes, yet within one probe interval the server is ready again by itself.
    unlinkSync(filler);
    expect((await readyz()).status).toBe(503);
    clock.advance(PROBE_MS);
    await expect.poll(async () => (await readyz()).status, { message: 'ready again' }).toBe(200);
    expect((await readyz()).body).toEqual({ status: 'ready', checks: { database: 'ok', broker: 'ok' } });

    // Bookings work again, and the resent batch is committed and acknowledged.
    expect((await book('FULL-2')).status).toBe(201);
    expect(await parcels()).toBe(1);
    await device.publishAsync(topics.events(locker.id), encode({ v: 1, events: events(1, 3) }), { qos: 1 });
    await expect.poll(() => acks, { message: 'the resent batch to be acked' }).toEqual([[1, 2, 3]]);
    expect(await deviceEvents()).toBe(3);
  }, 30_000);
});
