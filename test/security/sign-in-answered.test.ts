import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import pg from 'pg';
import { connect as tcpConnect } from 'node:net';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * A sign-in the broker has taken up is answered, never left to the sign-in timeout (server/broker/guarded-connection.ts,
 * broker-sign-in.ts): a power cut's sign-ins that outlast MQTT_SIGN_IN_TIMEOUT_MS in line or in their check get
 * CONNACK 3 (the locker backs off longer) instead of a close without an answer (after which it came back within
 * seconds, and 170,000 lockers kept each other out: docs/scale.md). A client that sends no CONNECT is still closed.
 */
const TIMEOUT_MS = 1000;
let db: TestPostgres;
let t: TestServer;
let url: string;

beforeAll(async () => {
  db = await startPostgres();
  url = await db.createDatabase();
  t = await startTestServer({ databaseUrl: url, mqttSignInTimeoutMs: TIMEOUT_MS, mqttSignInsAtOnce: 1, metricsToken: 'metrics-token-for-the-answered-sign-in-test-0123' });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await db?.stop();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-the-answered-sign-in-test-0123' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** One connect: 'ok', the CONNACK return code of a refusal, or 'closed' (no CONNACK at all). */
function connectOnce(lockerId: string, password: string): Promise<'ok' | 'closed' | number> {
  const client = mqtt.connect(t.mqttUrl, { clientId: lockerId, username: lockerId, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000 });
  return new Promise((resolve) => {
    client.once('connect', () => resolve('ok'));
    client.once('error', (err) => resolve(Number((err as { code?: unknown }).code ?? -1)));
    client.once('close', () => resolve('closed'));
  }).finally(() => client.end(true)) as Promise<'ok' | 'closed' | number>;
}

describe('a sign-in the broker took up', () => {
  it('is answered CONNACK 3 when its check outlasts the sign-in timeout (the database holds it), and gets in once it does not', async () => {
    const l = await registerLocker(t.api);
    const timeoutsBefore = await metric('lockstep_mqtt_connections_refused_total{reason="SIGN_IN_TIMEOUT"}');
    // Another session holds the table the sign-in writes its token's use to: the check waits on the database.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table broker_token_uses in exclusive mode');
      const started = Date.now();
      expect(await connectOnce(l.id, await l.device.sign())).toBe(3);
      // Answered by the check's own bound (the sign-in timeout's length), not after the backstop (3 of them).
      expect(Date.now() - started).toBeLessThan(2.5 * TIMEOUT_MS);
      expect(await metric('lockstep_mqtt_sign_ins_timed_out_total')).toBeGreaterThanOrEqual(1);
      expect(await metric('lockstep_mqtt_connections_refused_total{reason="SIGN_IN_TIMEOUT"}')).toBe(timeoutsBefore);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
    expect(await connectOnce(l.id, await l.device.sign())).toBe('ok');
  }, 30_000);

  it('still closes a connection that sends no CONNECT within the sign-in timeout', async () => {
    const before = await metric('lockstep_mqtt_connections_refused_total{reason="SIGN_IN_TIMEOUT"}');
    const { port } = new URL(t.mqttUrl);
    const socket = tcpConnect({ host: '127.0.0.1', port: Number(port) });
    const closedAfter = await new Promise<number>((resolve) => {
      const started = Date.now();
      socket.on('error', () => undefined);
      socket.once('close', () => resolve(Date.now() - started));
    });
    expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(closedAfter).toBeLessThan(3 * TIMEOUT_MS);
    expect(await metric('lockstep_mqtt_connections_refused_total{reason="SIGN_IN_TIMEOUT"}')).toBe(before + 1);
  }, 30_000);
});
