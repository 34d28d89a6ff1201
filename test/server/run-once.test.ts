import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.js';
import { makeConfig } from '../../server/config.js';
import { createServer } from '../../server/create-server.js';
import { book, call, createAccount } from '../security/api-helpers.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { WebhookReceiver } from '../webhooks/receiver.js';

/** A clock whose timers never fire: the scheduler and the webhook worker move only when a test runs them. */
class FrozenTimers implements Clock {
  nowMs = Date.now();
  now(): number {
    return this.nowMs;
  }
  setTimeout(): () => void {
    return () => {};
  }
}

const clock = new FrozenTimers();
let t: TestServer;
let locker: RegisteredLocker;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await startTestServer({ depositWindowSec: 600 }, clock);
  locker = await registerLocker(t.api);
  receiver = await new WebhookReceiver().listen();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

describe('runOnce on the server handle', () => {
  it('the scheduler runs its jobs once, at the clock’s time, and resolves when they are done', async () => {
    const parcelId = await book(t, t.server.adminToken, locker.id, 'RUN-ONCE');
    clock.nowMs += 3600_000;
    const status = async () => (await call(t, t.server.adminToken, 'GET', `/v1/parcels/${parcelId}`)).body.status;
    // No timer fires: the reservation outlived its window and nothing released it.
    expect(await status()).toBe('booked');
    await t.server.scheduler.runOnce();
    expect(await status()).toBe('cancelled');
  });

  it('the webhook worker sends what is due once, and resolves when the outcome is recorded', async () => {
    const carrier = await createAccount(t, 'carrier', 'run-once carrier');
    const res = await call(t, carrier.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}/once` });
    receiver.expect('/once', res.body.secret as string);
    await book(t, carrier.token, locker.id, 'RUN-ONCE-HOOK');
    expect(receiver.on('/once')).toHaveLength(0);
    await t.server.webhookWorker.runOnce();
    expect(receiver.on('/once').map((r) => r.json.type)).toEqual(['parcel.booked']);
    const deliveries = (await call(t, carrier.token, 'GET', '/v1/webhooks/deliveries')).body.deliveries as { state: string }[];
    expect(deliveries.map((d) => d.state)).toEqual(['delivered']);
  });

  it('refuses before start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-idle-'));
    const idle = await createServer(makeConfig({ port: 0, mqttPort: 0, dataDir: dir, logLevel: 'silent' }));
    try {
      await expect(idle.scheduler.runOnce()).rejects.toThrow('not started');
      await expect(idle.webhookWorker.runOnce()).rejects.toThrow('not started');
    } finally {
      await idle.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
