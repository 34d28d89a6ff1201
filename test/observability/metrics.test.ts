import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import { checkReadiness } from '../../server/metrics/metrics-routes.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const METRICS_TOKEN = 'prometheus-scraper-token-0123456789abcdef';

let t: TestServer;
let lockers: InProcessLocker[];
beforeAll(async () => {
  t = await startTestServer({ metricsToken: METRICS_TOKEN });
  lockers = await Promise.all(
    [1, 2].map((n) =>
      startSimLocker({ api: t.api, name: `Metrics ${n}`, location: { lat: 52.2, lon: 21 + n / 100 }, dataDir: t.dir, clock: systemClock, random: seededRandom(n) }),
    ),
  );
  await vi.waitFor(() => expect(lockers.every((l) => l.agent.ready), 'both lockers configured').toBe(true), { timeout: 10_000, interval: 10 });
});
afterAll(async () => {
  for (const l of lockers ?? []) await l.stop();
  await t?.close();
});

async function scrape(token = METRICS_TOKEN): Promise<string> {
  const res = await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one series, e.g. value(text, 'lockstep_codes_total', { result: 'accepted' }) (summed over other labels). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

/** A parcel through one locker: booked, deposited with the drop-off PIN, picked up with the pickup PIN. */
async function cycle(locker: InProcessLocker, reference: string): Promise<void> {
  const grants = await locker.store.grantCount();
  const parcel = await t.api.post<{ id: string; compartmentId: string; dropoff: { pin: string } }>('/v1/parcels', {
    lockerId: locker.id,
    size: 'S',
    recipient: { email: 'r@x.example' },
    reference,
  });
  await expect.poll(async () => (await locker.store.grantCount()) === grants + 2, { message: 'the grants' }).toBe(true);
  expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
  locker.hardware.openDoor(parcel.compartmentId);
  locker.hardware.closeDoor(parcel.compartmentId);
  const code = await awaitPickupCode(t.api, parcel.id, 10_000);
  expect(await locker.agent.enterCode(code!.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
  locker.hardware.openDoor(parcel.compartmentId);
  locker.hardware.closeDoor(parcel.compartmentId);
  await expect.poll(async () => (await t.api.get<{ status: string }>(`/v1/parcels/${parcel.id}`)).status, { message: 'the pickup' }).toBe('picked_up');
}

describe('/metrics', () => {
  it('is refused without a token, to carriers, and to a wrong metrics token', async () => {
    expect((await fetch(`${t.httpUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    const carrier = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Carrier', role: 'carrier' });
    const res = await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${carrier.token}` } });
    expect(res.status).toBe(403);
    // The metrics token opens /metrics only.
    expect((await fetch(`${t.httpUrl}/v1/lockers`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
    const operator = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Ops', role: 'operator' });
    expect(await scrape(operator.token)).toContain('lockstep_mqtt_connected_lockers');
  });

  it('counters move after deposits and pickups at two lockers, a wrong PIN and an operator command', async () => {
    const before = await scrape();
    await cycle(lockers[0]!, 'M-1');
    await cycle(lockers[1]!, 'M-2');
    expect(await lockers[0]!.agent.enterCode('00000000', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
    await t.api.post(`/v1/lockers/${lockers[1]!.id}/commands`, { type: 'set_service', compartmentId: 'D1', inService: false, reason: 'metrics test' });
    await expect.poll(async () => value(await scrape(), 'lockstep_codes_total', { result: 'rejected' }) >= 1, { message: 'the rejected code to be counted' }).toBe(true);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => (value(after, name, labels) || 0) - (value(before, name, labels) || 0);

    expect(value(after, 'lockstep_mqtt_connected_lockers')).toBe(2);
    expect(value(after, 'lockstep_lockers', { presence: 'online' })).toBe(2);
    expect(moved('lockstep_device_events_committed_total')).toBeGreaterThanOrEqual(12);
    expect(value(after, 'lockstep_device_events_duplicate_total')).toBeGreaterThanOrEqual(0);
    expect(moved('lockstep_grants_issued_total', { action: 'deposit' })).toBe(2);
    expect(moved('lockstep_grants_issued_total', { action: 'pickup' })).toBe(2);
    expect(moved('lockstep_codes_total', { result: 'accepted', action: 'deposit', via: 'keypad' })).toBe(2);
    expect(moved('lockstep_codes_total', { result: 'accepted', action: 'pickup', via: 'keypad' })).toBe(2);
    expect(moved('lockstep_codes_total', { result: 'rejected', reason: 'UNKNOWN_CODE' })).toBe(1);
    expect(moved('lockstep_mqtt_messages_received_total', { kind: 'events' })).toBeGreaterThanOrEqual(2);
    expect(moved('lockstep_mqtt_messages_sent_total', { kind: 'events/ack' })).toBeGreaterThanOrEqual(2);
    expect(moved('lockstep_mqtt_messages_sent_total', { kind: 'state' })).toBeGreaterThanOrEqual(2);
    expect(value(after, 'lockstep_commands', { type: 'set_service' })).toBe(1);
    expect(moved('lockstep_http_request_duration_seconds_count', { route: '/v1/parcels', method: 'POST', status: '201' })).toBe(2);
    // One multi-row insert per event batch (server/sync/handle-events.ts), and at least two batches came in.
    expect(moved('lockstep_db_query_duration_seconds_count', { operation: 'insert', table: 'device_events' })).toBeGreaterThanOrEqual(2);
    expect(value(after, 'lockstep_db_query_duration_seconds_sum', { operation: 'insert', table: 'device_events' })).toBeGreaterThan(0);
    // Default process metrics are there too.
    expect(after).toContain('process_cpu_user_seconds_total');
  });

  it('counts alarms by kind and state, and refused MQTT payloads by code', async () => {
    lockers[0]!.hardware.forceOpen('B2');
    await expect.poll(async () => value(await scrape(), 'lockstep_alarms', { kind: 'forced_open', state: 'open' }), { message: 'the alarm gauge' }).toBe(1);
    const { items: alarms } = await t.api.get<{ items: { id: string }[] }>(`/v1/alarms?lockerId=${lockers[0]!.id}`);
    await t.api.post(`/v1/alarms/${alarms[0]!.id}/acknowledge`, {});
    const text = await scrape();
    expect(value(text, 'lockstep_alarms', { kind: 'forced_open', state: 'acknowledged' })).toBe(1);
    expect(value(text, 'lockstep_alarms', { kind: 'forced_open', state: 'open' })).toBe(0);
    lockers[0]!.hardware.closeDoor('B2');

    const { topics } = await import('../../shared/topics.js');
    await t.server.ctx.link.publish(topics.events(lockers[0]!.id), Buffer.from('{not json'), { qos: 1 });
    await expect.poll(async () => value(await scrape(), 'lockstep_mqtt_messages_rejected_total') >= 1, { message: 'the rejection to be counted' }).toBe(true);
  });
});

describe('/readyz', () => {
  it('is ready when the database answers and the broker listens; not ready otherwise', async () => {
    const res = await fetch(`${t.httpUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', broker: 'ok' } });
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);

    const other = await startTestServer();
    const db = other.server.ctx.db;
    await other.close();
    expect(await checkReadiness({ db, brokerListening: () => false, timeoutMs: 500 })).toEqual({ database: 'failing', broker: 'failing' });
  });
});
