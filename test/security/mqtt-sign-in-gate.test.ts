import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { connect as tcpConnect } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { enrol } from '../../device/identity.js';
import { signBrokerToken } from '../../shared/broker-credentials.js';
import { checkBrokerPassword } from '../../server/broker/device-auth.js';
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
    for (let i = 0; i < 40; i++) fleet.push(await registerLocker(g.api));
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
    // Each of the 39 that left was either skipped at its turn or (if it was let in before its hang-up arrived) checked:
    // a long line, so the later ones wait for 30-odd checks, time for their hang-ups to arrive.
    await expect.poll(async () => stats.signInsGone + (await uses()) - before).toBe(fleet.length);
    expect(stats.signInsGone, 'hang-ups seen before their turn').toBeGreaterThan(0);
    expect(stats.signInsBusy).toBe(0);
  });
});

describe('made-up tokens for the ids of lockers this process knows (server/broker/known-keys.ts)', () => {
  const FLOOD = 400;
  let g: TestServer;
  let real: RegisteredLocker[];
  beforeAll(async () => {
    // One check at a time and a short line: a flood of made-up tokens in that line would leave no room for lockers.
    g = await startTestServer({ mqttSignInsAtOnce: 1, mqttSignInsWaiting: 8, mqttConnectsPerAddressPer10s: 0 });
    real = [];
    for (let i = 0; i < 8; i++) real.push(await registerLocker(g.api));
  }, 60_000);
  afterAll(async () => {
    await g?.close();
  });

  const connect = (l: RegisteredLocker, password: string) => {
    const client = mqtt.connect(g.mqttUrl, { clientId: l.id, username: l.id, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000 });
    return new Promise<{ outcome: 'ok' | number; client: mqtt.MqttClient }>((resolve) => {
      client.once('connect', () => resolve({ outcome: 'ok', client }));
      client.once('error', (err) => resolve({ outcome: Number((err as { code?: unknown }).code ?? -1), client }));
      // Closed without a CONNACK (nobody answers a sign-in whose client was gone): -1.
      client.once('close', () => resolve({ outcome: -1, client }));
    });
  };

  it('waits in a narrow line of its own: the lockers signing in at the same time all get in', async () => {
    // Each locker signs in once (its key is read) and leaves, as before a power cut.
    for (const l of real) {
      const r = await connect(l, await l.device.sign());
      expect(r.outcome).toBe('ok');
      await r.client.endAsync(true);
    }
    const stats = g.server.ctx.stats;
    const before = { doubtful: stats.signInsDoubtful, doubtfulBusy: stats.signInsDoubtfulBusy, busy: stats.signInsBusy, authFailures: stats.authFailures };
    // An attacker who knows the ids signs tokens with keys of its own and floods the broker with them; the 8
    // lockers sign in while the flood goes on. In one line, the flood would keep its 1 + 8 places taken.
    const { privateKey } = await generateKeyPair('Ed25519');
    const forged = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => signBrokerToken(privateKey, real[i % real.length]!.id, Date.now(), `forged${i}`)),
    );
    const tokens = await Promise.all(real.map((l) => l.device.sign()));
    const flood = forged.map((token, i) => connect(real[i % real.length]!, token));
    // The flood under way: sorted as doubtful, or (in one line) refused because that line is full.
    await expect.poll(() => stats.signInsDoubtful - before.doubtful + stats.signInsBusy - before.busy, { interval: 2, timeout: 10_000 }).toBeGreaterThanOrEqual(20);
    const lockers = await Promise.all(real.map((l, i) => connect(l, tokens[i]!)));
    const attacks = await Promise.all(flood);

    expect(lockers.map((r) => r.outcome)).toEqual(real.map(() => 'ok'));
    // Refused as bad credentials once checked, or as busy when their own line was full; never let in.
    expect(attacks.every((r) => r.outcome === 4 || r.outcome === 3), attacks.map((r) => r.outcome).join(',')).toBe(true);
    const refusedBusy = attacks.filter((r) => r.outcome === 3).length;
    expect(stats.signInsBusy - before.busy).toBe(refusedBusy);
    expect(stats.authFailures - before.authFailures).toBe(FLOOD - refusedBusy);
    // Every made-up token was sorted as doubtful, but for any refused busy before it could be (too many being
    // sorted at once, or the main line full): none of them went to the lockers' line.
    const doubtfulBusy = stats.signInsDoubtfulBusy - before.doubtfulBusy;
    expect(stats.signInsDoubtful - before.doubtful + (refusedBusy - doubtfulBusy)).toBe(FLOOD);
    expect(stats.signInsDoubtful - before.doubtful).toBeGreaterThan(FLOOD / 2);
    await Promise.all([...lockers, ...attacks].map((r) => r.client.endAsync(true)));
  });

  it('a locker re-enrolled with a new key: forgotten when revoked and when enrolled, then remembered with its new key', async () => {
    const l = real[0]!;
    const doubtful = () => g.server.ctx.stats.signInsDoubtful;
    const signedIn = await connect(l, await l.device.sign());
    expect(signedIn.outcome).toBe('ok');
    await signedIn.client.endAsync(true);
    // Re-enrolment revokes it (forgotten here): the old controller, still retrying, is read as having no key...
    const ticket = await g.api.post<{ token: string }>(`/v1/lockers/${l.id}/re-enrol`, {});
    const d0 = doubtful();
    const oldRetry = await connect(l, await l.device.sign());
    expect([oldRetry.outcome, doubtful() - d0]).toEqual([4, 0]);
    const again = await connect(l, await l.device.sign());
    expect([again.outcome, doubtful() - d0]).toEqual([4, 1]);
    const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(publicKey);
    await enrol(g.api.baseUrl, l.id, ticket.token, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
    // ... until its new controller enrols here (forgotten again: a process that did not see the enrolment would
    // take the first sign-in as doubtful once). Checked against the database, let in, its key remembered.
    const first = await connect(l, await signBrokerToken(privateKey, l.id, Date.now(), 'newkey1'));
    expect([first.outcome, doubtful() - d0]).toEqual(['ok', 1]);
    await first.client.endAsync(true);
    // Its key is the one remembered now: the next sign-in is not doubtful; the old key's tokens and a replay are.
    const secondToken = await signBrokerToken(privateKey, l.id, Date.now(), 'newkey2');
    const second = await connect(l, secondToken);
    expect([second.outcome, doubtful() - d0]).toEqual(['ok', 1]);
    await second.client.endAsync(true);
    const old = await connect(l, await l.device.sign());
    expect([old.outcome, doubtful() - d0]).toEqual([4, 2]);
    const replay = await connect(l, secondToken);
    expect([replay.outcome, doubtful() - d0]).toEqual([4, 3]);
    again.client.end(true);
    old.client.end(true);
    replay.client.end(true);
    oldRetry.client.end(true);
  });

  it('a token verified against a key the database no longer holds is verified again, and refused', async () => {
    const l = real[1]!;
    const stale = (await g.server.ctx.db.selectFrom('lockers').select('public_key').where('id', '=', l.id).executeTakeFirstOrThrow()).public_key!;
    const oldToken = await l.device.sign();
    const ticket = await g.api.post<{ token: string }>(`/v1/lockers/${l.id}/re-enrol`, {});
    const jwk = await exportJWK((await generateKeyPair('Ed25519', { extractable: true })).publicKey);
    await enrol(g.api.baseUrl, l.id, ticket.token, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
    // As another process would, that still remembered the old key (known-keys.ts): the check does not trust it.
    expect(await checkBrokerPassword(g.server.ctx.db, l.id, Buffer.from(oldToken), Date.now(), undefined, stale)).toBe('BAD_SIGNATURE');
  });
});
