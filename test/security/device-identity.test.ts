import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { exportJWK, generateKeyPair } from 'jose';
import { enrol } from '../../device/identity.js';
import type { EnrolmentTicket, LockerView } from '../../shared/api/lockers.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
const clock = new ShiftClock();
const clients: MqttClient[] = [];
beforeAll(async () => {
  t = await startTestServer({}, clock);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await t.close();
});

async function newKey() {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey: { kty: 'OKP' as const, crv: 'Ed25519' as const, x: String(jwk.x) } };
}

const register = () => t.api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: 'Id', location: { lat: 1, lon: 1 }, compartments: [{ id: 'A1', size: 'S' }] });

async function connect(clientId: string, username: string, password: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(t.mqttUrl, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 3000 });
  clients.push(c);
  return c;
}

describe('enrolment', () => {
  it('takes a single-use token once, for its own locker only', async () => {
    const a = await register();
    const b = await register();
    const key = await newKey();
    await expect(enrol(t.httpUrl, b.id, a.enrolment.token, key.publicKey)).rejects.toThrow(/ENROLMENT_REFUSED/);
    await expect(enrol(t.httpUrl, a.id, `${a.enrolment.token}x`, key.publicKey)).rejects.toThrow(/ENROLMENT_REFUSED/);
    expect(await enrol(t.httpUrl, a.id, a.enrolment.token, key.publicKey)).toMatchObject({ lockerId: a.id, mqttUrl: t.mqttUrl });
    const replay = await newKey();
    await expect(enrol(t.httpUrl, a.id, a.enrolment.token, replay.publicKey)).rejects.toThrow(/ENROLMENT_REFUSED/);
  });

  it('refuses an expired token', async () => {
    const a = await register();
    clock.shiftMs += 8 * 24 * 3600_000;
    try {
      await expect(enrol(t.httpUrl, a.id, a.enrolment.token, (await newKey()).publicKey)).rejects.toThrow(/ENROLMENT_REFUSED/);
    } finally {
      clock.shiftMs -= 8 * 24 * 3600_000;
    }
  });

  it('refuses a malformed public key with a validation error', async () => {
    const a = await register();
    const res = await fetch(`${t.httpUrl}/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lockerId: a.id, token: a.enrolment.token, publicKey: { kty: 'RSA', n: 'x', e: 'AQAB' } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });
});

describe('broker sign-in with the locker’s own key', () => {
  it('accepts a fresh token signed by the enrolled key and nothing else', async () => {
    const a = await registerLocker(t.api);
    const b = await registerLocker(t.api);
    expect((await connect(a.id, a.id, await a.device.sign())).connected).toBe(true);
    const refused = [
      ['expired (clock more than a day off)', await a.device.sign({ nowMs: Date.now() - 26 * 3600_000 })],
      ['signed by another locker’s key', await b.device.sign({ lockerId: a.id })],
      ['issued to another locker', await a.device.sign({ lockerId: b.id })],
      ['not a token', 'x'.repeat(60)],
    ] as const;
    const failures = t.server.stats.authFailures;
    for (const [why, password] of refused) {
      await expect(connect(`${a.id}`, a.id, password), why).rejects.toThrow();
    }
    expect(t.server.stats.authFailures - failures).toBe(refused.length);
  });

  it('takes each token once: a token copied from a connection does not sign in again', async () => {
    const a = await registerLocker(t.api);
    const token = await a.device.sign();
    const first = await connect(a.id, a.id, token);
    expect(first.connected).toBe(true);
    await first.endAsync(true);
    await expect(connect(a.id, a.id, token)).rejects.toThrow();
  });

  it('lets a locker whose clock is hours off sign in (to learn the time), with a fresh token', async () => {
    const a = await registerLocker(t.api);
    const c = await connect(a.id, a.id, await a.device.sign({ nowMs: Date.now() + 5 * 3600_000 }));
    expect(c.connected).toBe(true);
  });

  it('does not let an impostor with a bad token take over a connected locker’s session', async () => {
    const a = await registerLocker(t.api);
    const real = await connect(a.id, a.id, await a.device.sign());
    await expect(connect(a.id, a.id, 'forged')).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect(real.connected).toBe(true);
  });

  it('re-enrolment revokes the old key: its connection is closed and it cannot sign in again', async () => {
    const a = await registerLocker(t.api);
    const old = await connect(a.id, a.id, await a.device.sign());
    const ticket = await t.api.post<EnrolmentTicket>(`/v1/lockers/${a.id}/re-enrol`, {});
    await expect.poll(() => !old.connected, { message: 'the old controller to be disconnected' }).toBe(true);
    await expect(connect(`${a.id}`, a.id, await a.device.sign())).rejects.toThrow();
    const fresh = await newKey();
    await enrol(t.httpUrl, a.id, ticket.token, fresh.publicKey);
    const { signBrokerToken } = await import('../../shared/broker-credentials.js');
    const c = await connect(a.id, a.id, await signBrokerToken(fresh.privateKey, a.id, Date.now(), 'j1'));
    expect(c.connected).toBe(true);
    await expect(enrol(t.httpUrl, a.id, a.enrolment.token, (await newKey()).publicKey)).rejects.toThrow(/ENROLMENT_REFUSED/);
  });

  it('only an admin may re-enrol (it hands over the locker’s codes), and every re-enrolment is audited', async () => {
    const a = await registerLocker(t.api);
    for (const role of ['operator', 'carrier']) {
      const account = await t.api.post<{ token: string }>('/v1/accounts', { name: role, role });
      const res = await fetch(`${t.httpUrl}/v1/lockers/${a.id}/re-enrol`, { method: 'POST', headers: { authorization: `Bearer ${account.token}` } });
      expect(res.status, role).toBe(403);
    }
    await t.api.post(`/v1/lockers/${a.id}/re-enrol`, {});
    const audit = await t.api.get<{ items: { action: string; lockerId: string | null }[] }>('/v1/audit');
    expect(audit.items.some((e) => e.action === 'locker.re_enrol' && e.lockerId === a.id)).toBe(true);
  });

  it('remembers used broker tokens in the database, so a restart does not make a copied one work again', async () => {
    const { checkBrokerPassword } = await import('../../server/broker/device-auth.js');
    const a = await registerLocker(t.api);
    const token = Buffer.from(await a.device.sign());
    expect(await checkBrokerPassword(t.server.ctx.db, a.id, token, clock.now())).toBe('OK');
    expect(await checkBrokerPassword(t.server.ctx.db, a.id, token, clock.now())).toBe('REPLAYED');
    const row = await t.server.ctx.db.selectFrom('broker_token_uses').selectAll().where('locker_id', '=', a.id).execute();
    expect(row).toHaveLength(1);
  });

  it('a replacement controller numbers its events on from the old one’s, so none is taken for a duplicate', async () => {
    const a = await registerLocker(t.api);
    const { encode } = await import('../../shared/codec.js');
    const { topics } = await import('../../shared/topics.js');
    for (let seq = 1; seq <= 3; seq++) {
      const event = { seq, id: `old${seq}`, bootId: 'b1', at: Date.now(), type: 'door.opened' as const, compartmentId: 'A1' };
      await t.server.ctx.link.publish(topics.events(a.id), encode({ v: 1, events: [event] }), { qos: 1 });
    }
    await expect.poll(async () => (await t.api.get<LockerView>(`/v1/lockers/${a.id}`)).events.received, { message: 'the old events' }).toBe(3);
    const ticket = await t.api.post<EnrolmentTicket>(`/v1/lockers/${a.id}/re-enrol`, {});
    expect(await enrol(t.httpUrl, a.id, ticket.token, (await newKey()).publicKey)).toMatchObject({ lastSeq: 3 });
  });
});
