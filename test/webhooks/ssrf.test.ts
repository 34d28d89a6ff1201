import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import type { Clock } from '../../shared/clock.js';
import type { DeliveryView } from '../../shared/api/webhooks.js';
import { addressPolicy } from '../../server/webhooks/address-policy.js';
import { AddressRefusedError, destinationVerdict, postOnce, type Resolve } from '../../server/webhooks/outbound-http.js';
import { book, call, createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { WebhookReceiver } from './receiver.js';

/** A clock whose timers never fire: the webhook worker moves only when a test runs it. */
class FrozenTimers implements Clock {
  nowMs = Date.now();
  now(): number {
    return this.nowMs;
  }
  setTimeout(): () => void {
    return () => {};
  }
}

let receiver: WebhookReceiver;
let port: string;
beforeAll(async () => {
  receiver = await new WebhookReceiver().listen();
  port = new URL(receiver.url).port;
});
afterAll(() => receiver.close());

/** A resolver that answers from a table, as a rebinding attacker's DNS would. */
const fakeDns =
  (answers: Record<string, string[]>): Resolve =>
  async (hostname) => {
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return list.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const post = (url: string, allow: string[], resolve?: Resolve) =>
  postOnce(url, { headers: { 'content-type': 'application/json' }, body: '{"id":"evt_x"}', signal: AbortSignal.timeout(2000), policy: addressPolicy(allow), ...(resolve ? { resolve } : {}) });

describe('a webhook POST checks the address it connects to', () => {
  it('refuses a loopback literal before connecting, and sends once the allow-list names it', async () => {
    await expect(post(`${receiver.url}/literal`, [])).rejects.toEqual(expect.objectContaining({ code: 'ADDRESS_REFUSED', kind: 'loopback' }));
    await expect(post(`http://[::ffff:127.0.0.1]:${port}/literal`, [])).rejects.toBeInstanceOf(AddressRefusedError);
    expect(receiver.on('/literal')).toHaveLength(0);
    expect(await post(`${receiver.url}/literal`, ['127.0.0.1/32'])).toBe(200);
    expect(receiver.on('/literal')).toHaveLength(1);
  });

  it('refuses a name whose answer is refused at connect time although it passed when the endpoint was set (DNS rebinding)', async () => {
    const url = `http://hooks.rebind.example:${port}/rebind`;
    // When the endpoint is set the name points at a public address...
    expect(await destinationVerdict(url, addressPolicy([]), fakeDns({ 'hooks.rebind.example': ['93.184.216.34'] }))).toEqual({ ok: true });
    // ...when the webhook is sent, at the metadata service and loopback: no connection is made.
    const rebound = fakeDns({ 'hooks.rebind.example': ['169.254.169.254', '127.0.0.1', '::1'] });
    await expect(post(url, [], rebound)).rejects.toEqual(expect.objectContaining({ code: 'ADDRESS_REFUSED', kind: 'metadata' }));
    expect(receiver.on('/rebind')).toHaveLength(0);
    // With 127.0.0.1 allowed, only that answer is used (never the metadata one listed first).
    expect(await post(url, ['127.0.0.1/32'], rebound)).toBe(200);
    expect(receiver.on('/rebind')).toHaveLength(1);
    expect(receiver.on('/rebind')[0]!.headers.host).toBe(`hooks.rebind.example:${port}`);
  });

  it('refuses `localhost` through the system resolver', async () => {
    await expect(post(`http://localhost:${port}/localhost`, [])).rejects.toEqual(expect.objectContaining({ code: 'ADDRESS_REFUSED', kind: 'loopback' }));
    expect(receiver.on('/localhost')).toHaveLength(0);
  });
});

describe('webhooks on a server with the default address policy (no WEBHOOK_ALLOW_PRIVATE)', () => {
  const clock = new FrozenTimers();
  let t: TestServer;
  let locker: RegisteredLocker;
  let carrier: CreatedAccount;
  beforeAll(async () => {
    t = await startTestServer({ webhookAllowPrivate: [], webhookMaxAttempts: 2 }, clock);
    locker = await registerLocker(t.api);
    carrier = await createAccount(t, 'carrier', 'SSRF carrier');
  });
  afterAll(() => t.close());

  it('refuses to set an endpoint on loopback, metadata, private or link-local addresses (422 WEBHOOK_URL_REFUSED)', async () => {
    const cases: [string, string][] = [
      [`${receiver.url}/set`, 'loopback'],
      [`http://[::1]:${port}/set`, 'loopback'],
      [`http://[::ffff:7f00:1]:${port}/set`, 'loopback'],
      [`http://2130706433:${port}/set`, 'loopback'], // 127.0.0.1 as one number, normalised by the URL parser
      [`http://localhost:${port}/set`, 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'metadata'],
      ['http://[fd00:ec2::254]/latest/meta-data/', 'metadata'],
      ['https://10.0.0.5/hook', 'private'],
      ['https://[fe80::1]/hook', 'link-local'],
      ['http://0.0.0.0/hook', 'unspecified'],
    ];
    const results = [];
    for (const [url] of cases) {
      const res = await call(t, carrier.token, 'PUT', '/v1/me/webhook', { url });
      results.push([url, res.status, res.body.error?.code, res.body.error?.details?.reason]);
    }
    expect(results).toEqual(cases.map(([url, reason]) => [url, 422, 'WEBHOOK_URL_REFUSED', reason]));
    expect((await call(t, carrier.token, 'GET', '/v1/me/webhook')).body.error?.code).toBe('WEBHOOK_NOT_FOUND');
    // A public address is fine (nothing is sent until a parcel changes).
    expect((await call(t, carrier.token, 'PUT', '/v1/me/webhook', { url: 'https://93.184.216.34/hook' })).status).toBe(200);
    expect(receiver.on('/set')).toHaveLength(0);
  });

  it('an endpoint that points at loopback anyway (set before, or its name changed) is refused at connect time: a failed, retried, then dead attempt, nothing sent', async () => {
    // Stored directly, as an endpoint set before this check existed, or a name that resolved elsewhere then.
    const db = t.server.ctx.db;
    const now = clock.now();
    for (const [name, path] of [
      ['Literal carrier', `${receiver.url}/stored-literal`],
      ['Name carrier', `http://localhost:${port}/stored-name`],
    ] as const) {
      const c = await createAccount(t, 'carrier', name);
      await db.insertInto('webhooks').values({ account_id: c.id, url: path, secret: 'whsec_stored-secret-0123456789', created_at: now, updated_at: now }).execute();
      await book(t, c.token, locker.id, `SSRF-${name}`);
      await t.server.webhookWorker.runOnce();
      const [first] = (await call(t, c.token, 'GET', '/v1/webhooks/deliveries')).body.deliveries as DeliveryView[];
      expect(first, name).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null, lastError: 'ADDRESS_REFUSED (loopback)' });
      // The retry policy applies: due after the backoff, refused again, then dead (WEBHOOK_MAX_ATTEMPTS 2).
      clock.nowMs = first!.nextAttemptAt! + 1;
      await t.server.webhookWorker.runOnce();
      const [second] = (await call(t, c.token, 'GET', '/v1/webhooks/deliveries')).body.deliveries as DeliveryView[];
      expect(second, name).toMatchObject({ state: 'dead', attempts: 2, lastError: 'ADDRESS_REFUSED (loopback)' });
    }
    expect(receiver.on('/stored-literal')).toHaveLength(0);
    expect(receiver.on('/stored-name')).toHaveLength(0);
  });
});

describe('webhooks on a server with WEBHOOK_ALLOW_PRIVATE naming the receiver', () => {
  let t: TestServer;
  let locker: RegisteredLocker;
  beforeAll(async () => {
    t = await startTestServer({ webhookAllowPrivate: ['127.0.0.1/32'] }, new FrozenTimers());
    locker = await registerLocker(t.api);
  });
  afterAll(() => t.close());

  it('sets the endpoint and delivers to it, by address and by a name that resolves to it', async () => {
    for (const [name, url] of [
      ['allowed literal', `${receiver.url}/allowed-literal`],
      ['allowed name', `http://localhost:${port}/allowed-name`],
    ] as const) {
      const c = await createAccount(t, 'carrier', name);
      const set = await call(t, c.token, 'PUT', '/v1/me/webhook', { url });
      expect(set.status, name).toBe(200);
      const path = new URL(url).pathname;
      receiver.expect(path, set.body.secret as string);
      await book(t, c.token, locker.id, `ALLOWED-${name}`);
      await t.server.webhookWorker.runOnce();
      expect(receiver.on(path).map((r) => [r.json.type, r.signatureValid]), name).toEqual([['parcel.booked', true]]);
      const [d] = (await call(t, c.token, 'GET', '/v1/webhooks/deliveries')).body.deliveries as DeliveryView[];
      expect(d, name).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 200 });
    }
    // ::1 is not in the list: still refused.
    const other = await createAccount(t, 'carrier', 'v6 loopback');
    expect((await call(t, other.token, 'PUT', '/v1/me/webhook', { url: `http://[::1]:${port}/v6` })).body.error?.code).toBe('WEBHOOK_URL_REFUSED');
  });
});
