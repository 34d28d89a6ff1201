import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { connect as tcpConnect } from 'node:net';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

const METRICS_TOKEN = 'metrics-token-for-the-sign-in-gate-test-0123456789';
const FLEET = 24;

let t: TestServer;
let lockers: RegisteredLocker[];

beforeAll(async () => {
  // One check at a time and nobody waiting: every sign-in that arrives during another's check is refused as busy.
  t = await startTestServer({ mqttSignInsAtOnce: 1, mqttSignInsWaiting: 0, metricsToken: METRICS_TOKEN });
  lockers = [];
  for (let i = 0; i < FLEET; i++) lockers.push(await registerLocker(t.api));
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** One connect with a fresh token: 'ok', or the CONNACK return code of the refusal. */
function connectOnce(l: RegisteredLocker, password: string): Promise<{ outcome: 'ok' | number; client: mqtt.MqttClient }> {
  const client = mqtt.connect(t.mqttUrl, { clientId: l.id, username: l.id, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000 });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ outcome: 'ok', client }));
    client.once('error', (err) => resolve({ outcome: Number((err as { code?: unknown }).code ?? -1), client }));
  });
}

const tokenUses = async () => Number((await t.server.ctx.db.selectFrom('broker_token_uses').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('broker sign-ins beyond the gate (MQTT_SIGN_INS_AT_ONCE, MQTT_SIGN_INS_WAITING)', () => {
  it('answers CONNACK 3 "server unavailable" to what does not fit, counts it in /metrics, spends no token, and lets the locker in later', async () => {
    const usesBefore = await tokenUses();
    const tokens = await Promise.all(lockers.map((l) => l.device.sign()));
    // The whole fleet at once, as after a power cut.
    const first = await Promise.all(lockers.map((l, i) => connectOnce(l, tokens[i] as string)));
    const outcomes = first.map((r) => r.outcome);
    expect(new Set(outcomes).size, `only accepted or busy: ${outcomes.join(',')}`).toBeLessThanOrEqual(2);
    expect(outcomes.every((o) => o === 'ok' || o === 3), outcomes.join(',')).toBe(true);
    const busy = outcomes.filter((o) => o === 3).length;
    const ok = FLEET - busy;
    expect(ok).toBeGreaterThan(0);
    expect(busy, 'a burst of 24 against one check at a time').toBeGreaterThan(0);
    expect(t.server.ctx.stats.signInsBusy).toBe(busy);
    // A busy refusal checked nothing and wrote nothing: only the accepted tokens are spent.
    expect(await tokenUses()).toBe(usesBefore + ok);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(new RegExp(`^lockstep_mqtt_sign_ins_busy_total ${busy}$`, 'm'));
    expect(metrics).toMatch(/^lockstep_mqtt_sign_ins_gone_total 0$/m);
    // The refused come back one at a time (as their backoff spreads them): each gets in, with the same token even
    // (it was never spent).
    for (const [i, r] of first.entries()) {
      if (r.outcome === 'ok') continue;
      r.client.end(true);
      const again = await connectOnce(lockers[i] as RegisteredLocker, tokens[i] as string);
      expect(again.outcome).toBe('ok');
      first[i] = again;
    }
    expect(await tokenUses()).toBe(usesBefore + FLEET);
    await Promise.all(first.map((r) => r.client.endAsync(true)));
  });
});

describe('a sign-in whose client leaves while it waits its turn', () => {
  let g: TestServer;
  let fleet: RegisteredLocker[];
  beforeAll(async () => {
    g = await startTestServer({ mqttSignInsAtOnce: 1, mqttSignInsWaiting: 100 });
    fleet = [];
    for (let i = 0; i < 12; i++) fleet.push(await registerLocker(g.api));
  }, 60_000);
  afterAll(async () => {
    await g?.close();
  });

  it('is skipped: no check, no token spent; the ones that stay are checked in turn', async () => {
    const uses = async () => Number((await g.server.ctx.db.selectFrom('broker_token_uses').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await uses();
    const port = Number(new URL(g.mqttUrl).port);
    const tokens = await Promise.all(fleet.map((l) => l.device.sign()));
    // Every CONNECT at once; all but the first hang up straight after sending theirs, while the first is checked.
    const stayed = await new Promise<number>((resolve, reject) => {
      fleet.forEach((l, i) => {
        const socket = tcpConnect(port, '127.0.0.1', () => {
          socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: l.id, username: l.id, password: Buffer.from(tokens[i] as string), clean: true, keepalive: 30 }));
          if (i > 0) socket.destroy();
        });
        socket.on('error', () => undefined);
        if (i === 0) {
          // CONNACK: 0x20, length 2, flags, return code.
          socket.once('data', (d: Buffer) => {
            socket.destroy();
            if (d[0] === 0x20) resolve(d[3] as number);
            else reject(new Error(`not a CONNACK: ${d.toString('hex')}`));
          });
        }
      });
    });
    expect(stayed, 'the client that stayed is let in').toBe(0);
    const stats = g.server.ctx.stats;
    // Each of the 11 that left was either skipped at its turn or (if it was let in before its hang-up arrived) checked.
    await expect.poll(async () => stats.signInsGone + (await uses()) - before).toBe(fleet.length);
    expect(stats.signInsGone, 'hang-ups seen before their turn').toBeGreaterThan(0);
    expect(stats.signInsBusy).toBe(0);
  });
});
