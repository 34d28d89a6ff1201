import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { ManualClock } from '../../shared/clock.js';
import { encode } from '../../shared/codec.js';
import type { EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { ackWaitMs } from '../../device/sync/backoff.js';
import { DeviceStore } from '../../device/store/device-store.js';
import { SyncClient } from '../../device/sync/sync-client.js';
import { captureDeviceLog } from './capture-log.js';

const LOCKER = 'locker-resend';
let n = 0;
const newId = () => `ev${String(++n).padStart(8, '0')}`;

/**
 * The device's sync client against a real MQTT broker (bare aedes on loopback), with a "server" that reads the
 * event batches and acknowledges only when the test says so. Time is a ManualClock: ack waits run on it.
 */
describe('event batch resends (device/sync/sync-client.ts)', () => {
  let broker: Aedes;
  let tcp: Server;
  let server: MqttClient;
  let dir: string;
  let store: DeviceStore;
  let clock: ManualClock;
  let client: SyncClient;
  let batches: number[][];

  const start = async (random: () => number, log = captureDeviceLog().logger) => {
    client = new SyncClient({
      log,
      lockerId: LOCKER,
      mqttUrl: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
      password: () => Promise.resolve('unused'),
      bootId: 'boot0001',
      clock,
      store,
      random,
      ackTimeoutMs: 1000,
      maxAckTimeoutMs: 4000,
      heartbeatMs: () => 3_600_000,
    });
    client.start({ onState: async () => ({ applied: 0 }), onServerTime: () => undefined, onCommand: async () => undefined });
    await expect.poll(() => client.connected, { message: 'the client to connect' }).toBe(true);
  };
  const record = (count: number) => store.record(Array.from({ length: count }, () => ({ type: 'door.closed' as const, compartmentId: 'A1' })), { bootId: 'boot0001', now: clock.now() });
  const ack = (seqs: number[]) => server.publishAsync(topics.eventsAck(LOCKER), encode({ v: PROTOCOL_VERSION, seqs, serverTime: clock.now() }), { qos: 1 });
  /** Moves the clock and lets what it fired reach the broker (or not). */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await new Promise((r) => setTimeout(r, 150));
  };

  beforeEach(async () => {
    broker = await Aedes.createBroker();
    tcp = createServer(broker.handle);
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    server = await mqtt.connectAsync(`mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`, { reconnectPeriod: 0 });
    batches = [];
    server.on('message', (_topic, payload) => batches.push((JSON.parse(payload.toString()) as EventBatchMessage).events.map((e) => e.seq)));
    await server.subscribeAsync(topics.events(LOCKER), { qos: 1 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-resend-'));
    store = await DeviceStore.open(path.join(dir, 'device.sqlite'), newId);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await client.stop();
    await store.close();
    await server.endAsync();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits twice as long after each ack that does not come, up to the cap, and keeps resending the batch', async () => {
    await record(2);
    await start(() => 0);
    await expect.poll(() => batches.length, { message: 'the first batch' }).toBe(1);
    expect(batches[0]).toEqual([1, 2]);
    // Waits of 1 s, 2 s, 4 s, then 4 s again (the cap); one batch in flight, never two.
    for (const wait of [1000, 2000, 4000, 4000]) {
      const before = batches.length;
      await advance(wait - 1);
      expect(batches.length).toBe(before);
      clock.advance(1);
      await expect.poll(() => batches.length === before + 1, { message: `a resend after ${wait} ms` }).toBe(true);
      expect(batches.at(-1)).toEqual([1, 2]);
    }
    expect(client.stats).toMatchObject({ batchesSent: 5, batchesResent: 4, ackTimeouts: 4, eventsResent: 8 });
    expect(await store.outboxSize()).toBe(2);
  });

  it('goes back to the first wait once the batch in flight is acknowledged', async () => {
    await record(1);
    await start(() => 0);
    await expect.poll(() => batches.length, { message: 'the first batch' }).toBe(1);
    await advance(1000);
    await advance(2000);
    expect(batches.length).toBe(3);
    await ack([1]);
    await expect.poll(() => store.outboxSize(), { message: 'the outbox to empty on the ack' }).toBe(0);
    await record(1);
    client.flush();
    await expect.poll(() => batches.length, { message: 'the next batch' }).toBe(4);
    expect(batches[3]).toEqual([2]);
    // After the ack the wait is 1 s again (it had grown to 4 s).
    clock.advance(1000);
    await expect.poll(() => batches.length, { message: 'a resend after the first wait' }).toBe(5);
    expect(batches[4]).toEqual([2]);
  });

  it('an ack of an earlier copy does not end the wait for a bigger batch in flight', async () => {
    await record(1);
    await start(() => 0);
    await expect.poll(() => batches.length, { message: 'the first batch' }).toBe(1);
    await record(1);
    await advance(1000);
    expect(batches[1]).toEqual([1, 2]);
    await ack([1]);
    await expect.poll(() => store.outboxSize(), { message: 'event 1 to leave the outbox' }).toBe(1);
    // Event 2 is still unacknowledged: the batch is sent again when its (doubled) wait runs out, and only then.
    await advance(1999);
    expect(batches.length).toBe(2);
    clock.advance(1);
    await expect.poll(() => batches.length, { message: 'the resend of event 2' }).toBe(3);
    expect(batches[2]).toEqual([2]);
  });

  it('logs a malformed command as one pino line (data first, then the message), without its content, and drops it', async () => {
    const { lines, logger } = captureDeviceLog();
    await start(() => 0.5, logger);
    await server.publishAsync(topics.commands(LOCKER), '{"v":1,"pin":"12345678"', { qos: 1 });
    await expect.poll(() => client.stats.invalidMessages, { message: 'the command to be refused' }).toBe(1);
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invalid command');
    expect(line).toMatchObject({ level: 40, component: 'device', msg: 'invalid command' });
    expect(typeof line?.code).toBe('string');
    expect(lines.join('')).not.toContain('12345678');
  });
});

describe('ackWaitMs', () => {
  it('doubles per miss from the ack timeout, adds up to half at random, and never passes the cap', () => {
    expect([0, 1, 2, 3, 10].map((m) => ackWaitMs(m, () => 0, 1000, 8000))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect([0, 1, 2, 3].map((m) => ackWaitMs(m, () => 0.999, 1000, 8000))).toEqual([1499, 2999, 5998, 8000]);
    for (let m = 0; m < 40; m++) {
      const w = ackWaitMs(m, Math.random, 15_000, 120_000);
      expect(w).toBeGreaterThanOrEqual(Math.min(120_000, 15_000 * 2 ** m));
      expect(w).toBeLessThanOrEqual(120_000);
    }
  });
});
