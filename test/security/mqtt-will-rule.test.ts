import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { topics } from '../../shared/topics.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

/**
 * A locker's will is checked when it connects (server/broker/broker-sign-in.ts): it is published when the locker
 * drops, and in a fleet also by another process on its behalf, with no client to check it against then. A will the
 * locker could not publish itself (another locker's topic, or retained on anything but its own status) is refused
 * with CONNACK 5.
 */
const METRICS_TOKEN = 'metrics-token-for-the-will-rule-test-0123456789';
let t: TestServer;
let me: RegisteredLocker;
let other: RegisteredLocker;

beforeAll(async () => {
  t = await startTestServer({ metricsToken: METRICS_TOKEN });
  [me, other] = [await registerLocker(t.api), await registerLocker(t.api)];
}, 60_000);

afterAll(async () => {
  await t?.close();
});

async function connectWithWill(topic: string, retain: boolean): Promise<'ok' | number> {
  const client = mqtt.connect(t.mqttUrl, {
    clientId: me.id,
    username: me.id,
    password: await me.device.sign(),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    will: { topic, payload: Buffer.from('{}'), qos: 1, retain },
  });
  const outcome = await new Promise<'ok' | number>((resolve) => {
    client.once('connect', () => resolve('ok'));
    client.once('error', (err) => resolve(Number((err as { code?: unknown }).code ?? -1)));
  });
  client.end(true);
  return outcome;
}

describe('the will a locker sets when it connects', () => {
  it('is refused (CONNACK 5, counted) on another locker\'s status, or retained on anything but its own status; its own status is fine', async () => {
    expect(await connectWithWill(topics.status(other.id), true)).toBe(5);
    expect(await connectWithWill(topics.commands(other.id), false)).toBe(5);
    expect(await connectWithWill(topics.events(me.id), true)).toBe(5);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/^lockstep_mqtt_connections_refused_total\{reason="WILL_NOT_ALLOWED"\} 3$/m);
    expect(await connectWithWill(topics.status(me.id), true)).toBe('ok');
  });
});
