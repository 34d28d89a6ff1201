import { afterEach, describe, expect, it } from 'vitest';
import { Aedes, type AuthenticateError } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { busyBackoffDelay, backoffDelay, noAnswerBackoffDelay } from '../../device/sync/backoff.js';
import { DeviceStore } from '../../device/store/device-store.js';
import { SyncClient } from '../../device/sync/sync-client.js';
import { captureDeviceLog } from './capture-log.js';

const LOCKER = 'locker-busy';
let n = 0;
const newId = () => `ev${String(++n).padStart(8, '0')}`;

describe('backoff after CONNACK 3 "server unavailable" (device/sync/backoff.ts)', () => {
  it('waits as after at least four failures, up to 5 minutes; other refusals keep the ordinary backoff', () => {
    const top = () => 0.999_999;
    expect(busyBackoffDelay(0, top)).toBe(Math.floor(0.999_999 * 16_000));
    expect(backoffDelay(0, top)).toBe(Math.floor(0.999_999 * 1000));
    expect(busyBackoffDelay(6, top)).toBe(Math.floor(0.999_999 * 64_000));
    expect(busyBackoffDelay(20, top)).toBe(Math.floor(0.999_999 * 300_000));
    expect(backoffDelay(20, top)).toBe(Math.floor(0.999_999 * 60_000));
    expect(busyBackoffDelay(3, () => 0)).toBe(0);
  });

  it('after a connect left without a CONNACK, starts as after a busy refusal but keeps the 1-minute cap', () => {
    const top = () => 0.999_999;
    expect(noAnswerBackoffDelay(0, top)).toBe(Math.floor(0.999_999 * 16_000));
    expect(noAnswerBackoffDelay(20, top)).toBe(Math.floor(0.999_999 * 60_000));
  });
});

/**
 * The agent's sync client against a real broker (aedes on loopback) that refuses every sign-in with the return code
 * the test picks. Time is a ManualClock: the reconnect waits run on it, so the test sees exactly when it comes back.
 */
describe('the agent refused at sign-in (device/sync/sync-client.ts)', () => {
  let broker: Aedes;
  let tcp: Server;
  let dir: string;
  let store: DeviceStore;
  let client: SyncClient;

  afterEach(async () => {
    await client.stop();
    await store.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts the agent against a broker refusing with `code` (or, 'silent', never answering a sign-in); returns the
   * clock and the sign-ins the broker saw.
   */
  async function refusedWith(code: 3 | 5 | 'silent') {
    const attempts: number[] = [];
    const clock = new ManualClock();
    broker = await Aedes.createBroker({
      authenticate: (_client, _u, _p, done) => {
        attempts.push(clock.now());
        if (code !== 'silent') done(Object.assign(new Error('refused'), { returnCode: code }) as AuthenticateError, false);
      },
    });
    tcp = createServer(broker.handle);
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-busy-'));
    store = await DeviceStore.open(path.join(dir, 'device.sqlite'), newId);
    client = new SyncClient({
      log: captureDeviceLog().logger,
      lockerId: LOCKER,
      mqttUrl: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
      password: () => Promise.resolve('unused'),
      bootId: 'boot0001',
      clock,
      store,
      // The top of every jitter range: the longest wait each backoff allows.
      random: () => 0.999,
      heartbeatMs: () => 3_600_000,
      // Wall time (mqtt.js' own timer): short, so the silent broker's case runs out at once.
      connectTimeoutMs: 500,
    });
    client.start({ onState: async () => ({ applied: 0 }), onServerTime: () => undefined, onCommand: async () => undefined });
    await expect.poll(() => attempts.length, { message: 'the first sign-in' }).toBe(1);
    // The refusal closes the connection and the client sets its retry: the one timer on the clock (no heartbeat or
    // ack wait runs without a connection). Time moves only after it is set.
    await expect.poll(() => clock.pending, { message: 'the retry to be scheduled' }).toBe(1);
    return { clock, attempts };
  }

  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('after a busy refusal, comes back only after the longer wait (just under 16 s here), not within the second', async () => {
    const { clock, attempts } = await refusedWith(3);
    clock.advance(15_000);
    await settle();
    expect(attempts).toHaveLength(1);
    clock.advance(1000);
    await expect.poll(() => attempts.length, { message: 'the retry after the busy backoff' }).toBe(2);
  });

  it('after a connect that got no CONNACK within its timeout, waits longer than after an ordinary failure', async () => {
    const { clock, attempts } = await refusedWith('silent');
    clock.advance(15_000);
    await settle();
    expect(attempts).toHaveLength(1);
    clock.advance(1000);
    await expect.poll(() => attempts.length, { message: 'the retry after the busy backoff' }).toBe(2);
  });

  it('after another refusal (not authorized), retries on the ordinary backoff (just under 1 s here)', async () => {
    const { clock, attempts } = await refusedWith(5);
    clock.advance(1000);
    await expect.poll(() => attempts.length, { message: 'the retry after the ordinary backoff' }).toBe(2);
  });
});
