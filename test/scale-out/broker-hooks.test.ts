import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

const HOOK_TOKEN = 'emqx-hook-token-0123456789abcdef0123';
let t: TestServer;
let locker: RegisteredLocker;

beforeAll(async () => {
  t = await startTestServer({ brokerHookToken: HOOK_TOKEN });
  locker = await registerLocker(t.api);
});
afterAll(async () => {
  await t?.close();
});

async function hook(path: string, body: unknown, token: string | null = HOOK_TOKEN): Promise<{ status: number; body: { result?: string; error?: { code: string } } }> {
  const res = await fetch(`${t.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result?: string; error?: { code: string } } };
}

describe('HTTP auth hooks for a broker that asks the server (EMQX)', () => {
  it('refuses a caller without the broker hook token, with a coded error', async () => {
    const password = await locker.device.sign();
    for (const token of [null, 'not-the-token-0123456789abcdef0123456']) {
      const r = await hook('/v1/broker/auth', { username: locker.id, password }, token);
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('BROKER_HOOK_REFUSED');
    }
    const bad = await hook('/v1/broker/auth', { username: locker.id });
    expect(bad.status).toBe(400);
  });

  it('allows a locker\'s own signed token once, and denies a replay, another locker\'s name or a bad token', async () => {
    const password = await locker.device.sign();
    expect((await hook('/v1/broker/auth', { username: locker.id, password, clientid: locker.id })).body).toEqual({ result: 'allow' });
    expect((await hook('/v1/broker/auth', { username: locker.id, password })).body).toEqual({ result: 'deny' });
    const other = await registerLocker(t.api);
    expect((await hook('/v1/broker/auth', { username: other.id, password: await locker.device.sign() })).body).toEqual({ result: 'deny' });
    expect((await hook('/v1/broker/auth', { username: locker.id, password: await locker.device.sign(), clientid: other.id })).body).toEqual({ result: 'deny' });
    expect((await hook('/v1/broker/auth', { username: locker.id, password: 'x.y.z' })).body).toEqual({ result: 'deny' });
  });

  it('allows each locker its own topics only, retained only on its status', async () => {
    const acl = (topic: string, action: 'publish' | 'subscribe', retain = false) => hook('/v1/broker/acl', { username: locker.id, topic, action, retain }).then((r) => r.body.result);
    expect(await acl(`lockers/${locker.id}/events`, 'publish')).toBe('allow');
    expect(await acl(`lockers/${locker.id}/status`, 'publish', true)).toBe('allow');
    expect(await acl(`lockers/${locker.id}/events`, 'publish', true)).toBe('deny');
    expect(await acl(`lockers/${locker.id}/state`, 'subscribe')).toBe('allow');
    expect(await acl(`lockers/${locker.id}/state`, 'publish')).toBe('deny');
    expect(await acl('lockers/+/state', 'subscribe')).toBe('deny');
    expect(await acl('lockers/L-other/events', 'publish')).toBe('deny');
  });

  it('denies everything to a controller whose key was revoked by re-enrolment', async () => {
    const replaced = await registerLocker(t.api);
    const topic = `lockers/${replaced.id}/events`;
    expect((await hook('/v1/broker/acl', { username: replaced.id, topic, action: 'publish' })).body).toEqual({ result: 'allow' });
    const password = await replaced.device.sign();
    await t.api.post(`/v1/lockers/${replaced.id}/re-enrol`, {});
    expect((await hook('/v1/broker/acl', { username: replaced.id, topic, action: 'publish' })).body).toEqual({ result: 'deny' });
    expect((await hook('/v1/broker/auth', { username: replaced.id, password })).body).toEqual({ result: 'deny' });
  });
});
