import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { ApiClient } from '../../client/http-client.js';
import { seededRandom } from '../../simulator/random.js';
import type { DeliveryView } from '../../shared/api/webhooks.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { WebhookReceiver } from './receiver.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string } };
}

const clock = new ShiftClock();
const logLines: string[] = [];
/** Everything that must never reach a log line: secrets and pickup codes seen in the tests below. */
const neverLogged: string[] = [];
let t: TestServer;
let receiver: WebhookReceiver;
let elsewhere: WebhookReceiver;
let locker: RegisteredLocker;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  t = await startTestServer({ webhookPollMs: 20, webhookMaxAttempts: 3, webhookTimeoutMs: 500, pickupWindowSec: 3600 }, clock, pino({ level: 'trace' }, sink));
  receiver = await new WebhookReceiver().listen();
  elsewhere = await new WebhookReceiver().listen();
  locker = await registerLocker(t.api, Array.from({ length: 12 }, (_, i) => ({ id: `S${i}`, size: 'S' })));
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  await elsewhere.close();
});

async function call(token: string, method: Method, url: string, payload?: unknown): Promise<Reply> {
  const res = await t.server.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as Reply['body']) : {} };
}

/** A carrier account whose endpoint is `receiver.url + path`, with a generated secret the receiver checks. */
async function carrierWithWebhook(path: string): Promise<CreatedAccount & { secret: string }> {
  const carrier = await createAccount(t, 'carrier', `carrier ${path}`);
  const res = await call(carrier.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}${path}` });
  expect(res.status).toBe(200);
  const secret = res.body.secret as string;
  receiver.expect(path, secret);
  neverLogged.push(secret);
  return { ...carrier, secret };
}

async function book(token: string, reference: string): Promise<string> {
  const res = await call(token, 'POST', '/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function deliveries(token: string, query = ''): Promise<DeliveryView[]> {
  const res = await call(token, 'GET', `/v1/webhooks/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body.deliveries as DeliveryView[];
}

/** One poll of the webhook outbox, awaited: whatever is due is sent, so nothing sent after it means nothing was due. */
const poll = () => t.server.webhookWorker.runOnce();
const MINUTE = 60_000;

describe('webhook endpoints', () => {
  it('are set per carrier account (admin for any, a carrier for itself), refuse non-http(s) URLs, and show a generated secret once', async () => {
    const admin = t.server.adminToken;
    const carrier = await createAccount(t, 'carrier', 'Config carrier');
    const operator = await createAccount(t, 'operator', 'Config operator');

    const set = await call(admin, 'PUT', `/v1/accounts/${carrier.id}/webhook`, { url: `${receiver.url}/cfg` });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ accountId: carrier.id, url: `${receiver.url}/cfg` });
    expect(set.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    neverLogged.push(set.body.secret as string);
    for (const read of [await call(admin, 'GET', `/v1/accounts/${carrier.id}/webhook`), await call(carrier.token, 'GET', '/v1/me/webhook')]) {
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ accountId: carrier.id, url: `${receiver.url}/cfg`, createdAt: expect.any(Number), updatedAt: expect.any(Number) });
    }
    // A secret the carrier chose is not echoed back.
    const own = await call(carrier.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}/cfg2`, secret: 'my-own-secret-of-some-length' });
    expect(own.status).toBe(200);
    expect(own.body.secret).toBeUndefined();
    neverLogged.push('my-own-secret-of-some-length');

    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://127.0.0.1/', 'http://user:pw@127.0.0.1/x', '/relative', 'http://127.0.0.1/#frag']) {
      const res = await call(carrier.token, 'PUT', '/v1/me/webhook', { url });
      expect([res.status, res.body.error?.code], url).toEqual([400, 'WEBHOOK_URL_INVALID']);
    }
    expect((await call(carrier.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}/x`, secret: 'short' })).body.error?.code).toBe('VALIDATION_FAILED');

    expect((await call(operator.token, 'PUT', '/v1/me/webhook', { url: `${receiver.url}/x` })).status).toBe(403);
    expect((await call(carrier.token, 'PUT', `/v1/accounts/${carrier.id}/webhook`, { url: `${receiver.url}/x` })).status).toBe(403);
    expect((await call(operator.token, 'GET', '/v1/webhooks/deliveries')).status).toBe(403);
    expect((await call(admin, 'PUT', `/v1/accounts/${operator.id}/webhook`, { url: `${receiver.url}/x` })).body.error?.code).toBe('ACCOUNT_NOT_CARRIER');
    expect((await call(admin, 'PUT', '/v1/accounts/acc_nope/webhook', { url: `${receiver.url}/x` })).body.error?.code).toBe('ACCOUNT_NOT_FOUND');

    expect(await call(carrier.token, 'DELETE', '/v1/me/webhook')).toEqual({ status: 200, body: { accountId: carrier.id, deleted: true, deadLettered: 0 } });
    expect((await call(carrier.token, 'DELETE', '/v1/me/webhook')).body.error?.code).toBe('WEBHOOK_NOT_FOUND');
    expect((await call(admin, 'GET', `/v1/accounts/${carrier.id}/webhook`)).body.error?.code).toBe('WEBHOOK_NOT_FOUND');
  });
});

describe('webhook deliveries', () => {
  describe('with a real locker (simulated hardware, agent in process)', () => {
    let sim: InProcessLocker;
    beforeAll(async () => {
      sim = await startSimLocker({
        api: t.api,
        name: 'Webhook locker',
        location: { lat: 52.2, lon: 21 },
        compartments: [
          { id: 'A1', size: 'S' },
          { id: 'A2', size: 'S' },
        ],
        dataDir: t.dir,
        clock,
        random: seededRandom(7),
      });
      await vi.waitFor(() => expect(sim.agent.ready, 'the locker configuration').toBe(true), { timeout: 10_000, interval: 10 });
    });
    afterAll(() => sim.stop());

    const bookAt = (carrier: CreatedAccount, reference: string) =>
      new ApiClient(t.httpUrl, carrier.token).post<{ id: string; compartmentId: string; dropoff: { pin: string } }>('/v1/parcels', {
        lockerId: sim.id,
        size: 'S',
        recipient: { phone: '+48 600 100 200' },
        reference,
      });
    const cycle = (compartmentId: string) => {
      sim.hardware.openDoor(compartmentId);
      sim.hardware.closeDoor(compartmentId);
    };
    const synced = () =>
      expect.poll(async () => {
        const v = await t.api.get<{ reportedVersion: number; desiredVersion: number }>(`/v1/lockers/${sim.id}`);
        return v.reportedVersion === v.desiredVersion;
      }, { message: 'the locker to apply the desired state' }).toBe(true);

    it('a deposit reaches the carrier as a signed parcel.deposited webhook whose pickup code opens the compartment', async () => {
      const carrier = await carrierWithWebhook('/deposit');
      const parcel = await bookAt(carrier, 'WH-DEPOSIT');
      await expect.poll(() => receiver.on('/deposit').length, { message: 'the booked webhook' }).toBe(1);
      const booked = receiver.on('/deposit')[0]!;
      expect(booked.signatureValid).toBe(true);
      expect(booked.headers['lockstep-event-type']).toBe('parcel.booked');
      expect(booked.headers['lockstep-event-id']).toBe(booked.json.id);
      expect(Math.abs(booked.t! - clock.now() / 1000)).toBeLessThan(5);
      expect(booked.json).toMatchObject({ type: 'parcel.booked', schemaVersion: 1, data: { parcel: { id: parcel.id, status: 'booked', reference: 'WH-DEPOSIT' } } });
      expect(booked.json.data.pickupCode).toBeUndefined();

      await synced();
      expect(await sim.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      await expect.poll(() => receiver.on('/deposit').length, { message: 'the deposited webhook' }).toBe(2);
      const deposited = receiver.on('/deposit')[1]!;
      expect(deposited.signatureValid).toBe(true);
      expect(deposited.json).toMatchObject({
        type: 'parcel.deposited',
        data: { parcel: { id: parcel.id, status: 'in_locker' }, recipient: { phone: '+48 600 100 200' } },
      });
      const code = deposited.json.data.pickupCode as { pin: string; qr: string };
      expect(code.pin).toMatch(/^\d{8}$/);
      neverLogged.push(code.pin, code.qr);

      // The recipient, told by the carrier's system, opens the compartment with it.
      expect(await sim.agent.enterCode(code.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      await expect.poll(() => receiver.on('/deposit').length, { message: 'the picked-up webhook' }).toBe(3);
      expect(receiver.on('/deposit')[2]!.json).toMatchObject({ type: 'parcel.picked_up', data: { parcel: { status: 'picked_up' } } });

      await expect.poll(async () => (await deliveries(carrier.token, '?state=delivered')).length, { message: 'all three recorded delivered' }).toBe(3);
      const listed = await deliveries(carrier.token);
      expect(listed.map((d) => [d.eventType, d.state, d.attempts, d.carriesCode])).toEqual([
        ['parcel.picked_up', 'delivered', 1, false],
        ['parcel.deposited', 'delivered', 1, true],
        ['parcel.booked', 'delivered', 1, false],
      ]);
      // The read model never shows the code; only the signed body carried it.
      expect(JSON.stringify(listed)).not.toContain(code.pin);
    });

    it('a parcel cancelled while the locker took it offline is reconciled: parcel.deposited with a new pickup code that opens', async () => {
      const carrier = await carrierWithWebhook('/reconciled');
      const parcel = await bookAt(carrier, 'WH-RECONCILED');
      await synced();
      sim.proxy.cut();
      await expect.poll(() => !sim.agent.sync.connected, { message: 'the cut' }).toBe(true);
      expect(await sim.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      expect((await call(carrier.token, 'POST', `/v1/parcels/${parcel.id}/cancel`)).status).toBe(200);
      sim.proxy.restore();

      await expect.poll(() => receiver.on('/reconciled').length, { message: 'booked, cancelled, deposited' }).toBe(3);
      const [booked, cancelled, deposited] = receiver.on('/reconciled');
      expect([booked, cancelled, deposited].map((r) => [r!.json.type, r!.signatureValid])).toEqual([
        ['parcel.booked', true],
        ['parcel.cancelled', true],
        ['parcel.deposited', true],
      ]);
      expect(cancelled!.json.data).toMatchObject({ cause: 'cancelled', parcel: { status: 'cancelled' } });
      expect(deposited!.json.data).toMatchObject({ reconciled: true, parcel: { status: 'in_locker' } });
      const code = deposited!.json.data.pickupCode as { pin: string; qr: string };
      neverLogged.push(code.pin, code.qr);
      await synced();
      expect(await sim.agent.enterCode(code.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      await expect.poll(() => receiver.on('/reconciled').length, { message: 'the picked-up webhook' }).toBe(4);
    });

    it('a parcel left past its pickup window: parcel.expired carries the courier’s collection code, which opens; then parcel.returned', async () => {
      const carrier = await carrierWithWebhook('/expired');
      const parcel = await bookAt(carrier, 'WH-EXPIRED');
      await synced();
      expect(await sim.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      await expect.poll(() => receiver.on('/expired').length, { message: 'booked, deposited' }).toBe(2);

      clock.shiftMs += 2 * 3600_000;
      await t.server.scheduler.runOnce();
      await expect.poll(() => receiver.on('/expired').length, { message: 'the expired webhook' }).toBe(3);
      const expired = receiver.on('/expired')[2]!;
      expect(expired.signatureValid).toBe(true);
      expect(expired.json).toMatchObject({ type: 'parcel.expired', data: { parcel: { id: parcel.id, status: 'expired' } } });
      expect(expired.json.data.pickupCode).toBeUndefined();
      const code = expired.json.data.collectionCode as { pin: string; qr: string };
      neverLogged.push(code.pin, code.qr);
      await synced();
      expect(await sim.agent.enterCode(code.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      cycle(parcel.compartmentId);
      await expect.poll(() => receiver.on('/expired').length, { message: 'the returned webhook' }).toBe(4);
      expect(receiver.on('/expired')[3]!.json).toMatchObject({ type: 'parcel.returned', data: { parcel: { status: 'returned' } } });
    });
  });

  it('a 500 is retried with backoff once the clock reaches it, then delivered, and never sent again', async () => {
    const carrier = await carrierWithWebhook('/retry');
    receiver.script('/retry', { status: 500 });
    const parcelId = await book(carrier.token, 'WH-RETRY');
    await expect.poll(() => receiver.on('/retry').length, { message: 'the first attempt' }).toBe(1);
    await expect.poll(async () => (await deliveries(carrier.token))[0]?.lastStatus, { message: 'the failure recorded' }).toBe(500);
    const [failed] = await deliveries(carrier.token);
    expect(failed).toMatchObject({ parcelId, state: 'pending', attempts: 1, lastError: 'HTTP 500', deliveredAt: null });
    // 10 s × 2^0 with jitter: between 5 and 10 s of clock time away.
    expect(failed!.nextAttemptAt! - clock.now()).toBeGreaterThan(4000);
    expect(failed!.nextAttemptAt! - clock.now()).toBeLessThanOrEqual(10_000);
    await poll();
    expect(receiver.on('/retry')).toHaveLength(1);

    clock.shiftMs += MINUTE;
    await expect.poll(() => receiver.on('/retry').length, { message: 'the retry' }).toBe(2);
    const [first, second] = receiver.on('/retry');
    expect(second!.json.id).toBe(first!.json.id);
    expect(second!.body).toBe(first!.body);
    expect(second!.signatureValid).toBe(true);
    expect(second!.t! - first!.t!).toBeGreaterThanOrEqual(59);
    await expect.poll(async () => (await deliveries(carrier.token))[0]?.state, { message: 'delivered' }).toBe('delivered');
    expect((await deliveries(carrier.token))[0]).toMatchObject({ attempts: 2, lastStatus: 200, lastError: null, nextAttemptAt: null });

    clock.shiftMs += 60 * MINUTE;
    await poll();
    expect(receiver.on('/retry')).toHaveLength(2);
  });

  it('after WEBHOOK_MAX_ATTEMPTS failures (a redirect not followed, a 503, a timeout) it is dead, listed, and a manual retry delivers it', async () => {
    const carrier = await carrierWithWebhook('/dead');
    const other = await createAccount(t, 'carrier', 'Another carrier');
    receiver.script('/dead', { status: 302, headers: { location: `${elsewhere.url}/stolen` } }, { status: 503 }, 'hang');
    await book(carrier.token, 'WH-DEAD');
    await expect.poll(() => receiver.on('/dead').length, { message: 'attempt 1' }).toBe(1);
    await expect.poll(async () => (await deliveries(carrier.token))[0]?.lastStatus, { message: 'attempt 1 recorded' }).toBe(302);
    expect((await deliveries(carrier.token))[0]?.lastError).toBe('HTTP 302 (redirect not followed)');
    clock.shiftMs += MINUTE;
    await expect.poll(() => receiver.on('/dead').length, { message: 'attempt 2' }).toBe(2);
    await expect.poll(async () => (await deliveries(carrier.token))[0]?.lastStatus, { message: 'attempt 2 recorded' }).toBe(503);
    clock.shiftMs += MINUTE;
    await expect.poll(() => receiver.on('/dead').length, { message: 'attempt 3' }).toBe(3);
    await expect.poll(async () => (await deliveries(carrier.token, '?state=dead')).length, { message: 'dead-lettered' }).toBe(1);
    const [dead] = await deliveries(carrier.token, '?state=dead');
    expect(dead).toMatchObject({ state: 'dead', attempts: 3, lastError: 'TIMEOUT', nextAttemptAt: null });
    expect(elsewhere.received).toHaveLength(0);
    // Dead means dead: no more attempts however far the clock moves.
    clock.shiftMs += 60 * MINUTE;
    await poll();
    expect(receiver.on('/dead')).toHaveLength(3);

    // Admins see it too; another carrier neither sees nor retries it.
    expect((await deliveries(t.server.adminToken, `?state=dead&accountId=${carrier.id}`)).map((d) => d.id)).toEqual([dead!.id]);
    expect(await deliveries(other.token, `?accountId=${carrier.id}`)).toEqual([]);
    expect((await call(other.token, 'POST', `/v1/webhooks/deliveries/${dead!.id}/retry`)).body.error?.code).toBe('DELIVERY_NOT_FOUND');
    expect((await call(other.token, 'GET', `/v1/webhooks/deliveries/${dead!.id}`)).body.error?.code).toBe('DELIVERY_NOT_FOUND');

    const retried = await call(carrier.token, 'POST', `/v1/webhooks/deliveries/${dead!.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ state: 'pending', attempts: 0 });
    await expect.poll(() => receiver.on('/dead').length, { message: 'the manual retry' }).toBe(4);
    expect(receiver.on('/dead')[3]!.json.id).toBe(dead!.id);
    await expect.poll(async () => (await call(carrier.token, 'GET', `/v1/webhooks/deliveries/${dead!.id}`)).body.state, { message: 'delivered' }).toBe('delivered');
    expect((await call(carrier.token, 'POST', `/v1/webhooks/deliveries/${dead!.id}/retry`)).body.error?.code).toBe('DELIVERY_NOT_DEAD');
  });

  it('goes out per account in order of creation: later events wait behind a failing one', async () => {
    const carrier = await carrierWithWebhook('/order');
    receiver.script('/order', { status: 500 });
    const ids = [await book(carrier.token, 'O-1'), await book(carrier.token, 'O-2'), await book(carrier.token, 'O-3')];
    await expect.poll(() => receiver.on('/order').length, { message: 'the first attempt' }).toBe(1);
    await poll();
    expect(receiver.on('/order')).toHaveLength(1);
    clock.shiftMs += MINUTE;
    await expect.poll(() => receiver.on('/order').length, { message: 'everything' }).toBe(4);
    expect(receiver.on('/order').map((r) => (r.json.data.parcel as { id: string }).id)).toEqual([ids[0], ...ids]);
    await expect.poll(async () => (await deliveries(carrier.token, '?state=delivered')).length, { message: 'all delivered' }).toBe(3);
  });

  it('removing the endpoint dead-letters what is pending; a retry needs an endpoint again', async () => {
    const carrier = await carrierWithWebhook('/removed');
    receiver.script('/removed', { status: 500 });
    await book(carrier.token, 'WH-REMOVED');
    await expect.poll(async () => (await deliveries(carrier.token))[0]?.attempts === 1 && (await deliveries(carrier.token))[0]?.lastStatus === 500, { message: 'a failed attempt' }).toBe(true);
    expect((await call(carrier.token, 'DELETE', '/v1/me/webhook')).body).toMatchObject({ deleted: true, deadLettered: 1 });
    const [dead] = await deliveries(carrier.token, '?state=dead');
    expect(dead).toMatchObject({ lastError: 'WEBHOOK_REMOVED' });
    expect((await call(carrier.token, 'POST', `/v1/webhooks/deliveries/${dead!.id}/retry`)).body.error?.code).toBe('WEBHOOK_NOT_CONFIGURED');
    // Without an endpoint, new changes are not queued at all.
    await book(carrier.token, 'WH-NONE');
    expect(await deliveries(carrier.token)).toHaveLength(1);
  });

  it('nothing is queued for parcels the bootstrap admin booked, and logs never carry a secret or a pickup code', async () => {
    const before = (await deliveries(t.server.adminToken, '?limit=1000')).length;
    await book(t.server.adminToken, 'WH-ADMIN');
    expect(await deliveries(t.server.adminToken, '?limit=1000')).toHaveLength(before);
    const text = logLines.join('');
    expect(text).toContain('webhook');
    for (const secret of neverLogged) expect(text).not.toContain(secret);
  });
});
