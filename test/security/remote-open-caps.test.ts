import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../server/config.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { call, createAccount, type CreatedAccount } from './api-helpers.js';
import { lockersWithParcels, openCompartment, type OccupiedLocker } from './remote-open-helpers.js';

let t: TestServer;
let clock: ShiftClock;
let a: CreatedAccount;
let b: CreatedAccount;
let lockers: OccupiedLocker[];

const audit = async (query: string) => (await call(t, t.server.adminToken, 'GET', `/v1/audit${query}`)).body.items as Record<string, unknown>[];
const L = (i: number) => (lockers[i] as OccupiedLocker).lockerId;

beforeAll(async () => {
  clock = new ShiftClock();
  t = await startTestServer({}, clock);
  a = await createAccount(t, 'operator', 'day shift');
  b = await createAccount(t, 'operator', 'night shift');
  const carrier = await createAccount(t, 'carrier');
  // Seven lockers, compartments empty: only the caps on spread and queue are in play.
  lockers = await lockersWithParcels(t, carrier.token, 7, 3, 0);
});
afterAll(() => t.close());

describe('remote opens: caps on distinct lockers per hour and on opens queued for offline lockers; short expiry', () => {
  it('one operator opens in at most 5 different lockers an hour (429 REMOTE_OPEN_LOCKERS_LIMITED, retry-after)', async () => {
    for (let i = 0; i < 5; i++) expect((await openCompartment(t, a.token, L(i), 'C1')).status, `locker ${i}`).toBe(202);
    const sixth = await openCompartment(t, a.token, L(5), 'C1');
    expect([sixth.status, sixth.body.error?.code, sixth.body.error?.details?.limit]).toEqual([429, 'REMOTE_OPEN_LOCKERS_LIMITED', 5]);
    const retry = Number(sixth.headers['retry-after']);
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    // Another operator is not held by it.
    expect((await openCompartment(t, b.token, L(5), 'C1')).status).toBe(202);
  });

  it('at most 5 opens wait for offline lockers per operator (429 REMOTE_OPEN_QUEUE_FULL); an online locker is not a queue', async () => {
    const full = await openCompartment(t, a.token, L(0), 'C2');
    expect([full.status, full.body.error?.code, full.body.error?.details?.limit]).toEqual([429, 'REMOTE_OPEN_QUEUE_FULL', 5]);
    await t.server.ctx.db.updateTable('lockers').set({ online: 1 }).where('id', '=', L(0)).execute();
    expect((await openCompartment(t, a.token, L(0), 'C2')).status).toBe(202);
    await t.server.ctx.db.updateTable('lockers').set({ online: 0 }).where('id', '=', L(0)).execute();
  });

  it('opens wait at most REMOTE_OPEN_MAX_TTL_SEC: a longer ttlSec is refused and audited; the default stays short', async () => {
    const long = await openCompartment(t, b.token, L(6), 'C1', { ttlSec: 86_400 });
    expect([long.status, long.body.error?.code, long.body.error?.details?.path]).toEqual([400, 'VALIDATION_FAILED', '/ttlSec']);
    const [last] = await audit(`?actor=${encodeURIComponent(`operator:${b.id}`)}&action=remote_open`);
    expect(last).toMatchObject({ result: 'refused', code: 'VALIDATION_FAILED', lockerId: L(6) });
    const ok = await openCompartment(t, b.token, L(6), 'C1', { ttlSec: 600 });
    expect((ok.body.expiresAt as number) - (ok.body.createdAt as number)).toBe(600_000);
    const dflt = await openCompartment(t, b.token, L(6), 'C2');
    expect((dflt.body.expiresAt as number) - (dflt.body.createdAt as number)).toBe(300_000);
  });

  it('an hour later the spread window has moved on and the queued opens have expired', async () => {
    clock.shiftMs += 3_601_000;
    expect((await openCompartment(t, a.token, L(5), 'C2')).status).toBe(202);
  });

  it('set_service: at most 10 per operator a minute (429 SET_SERVICE_LIMITED, retry-after), each call audited', async () => {
    const setService = (inService: boolean) => call(t, a.token, 'POST', `/v1/lockers/${L(6)}/commands`, { type: 'set_service', compartmentId: 'C3', inService, reason: 'door sticks' });
    for (let i = 0; i < 10; i++) expect((await setService(i % 2 === 1)).status, `set_service ${i + 1}`).toBe(202);
    const refused = await setService(false);
    expect([refused.status, refused.body.error?.code, refused.body.error?.details?.scope]).toEqual([429, 'SET_SERVICE_LIMITED', 'operator']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const entries = await audit(`?action=set_service&actor=${encodeURIComponent(`operator:${a.id}`)}`);
    expect(entries.map((e) => e.result)).toEqual(['refused', ...Array<string>(10).fill('created')]);
    expect(entries[0]).toMatchObject({ code: 'SET_SERVICE_LIMITED', lockerId: L(6), compartmentId: 'C3', reason: 'door sticks' });
    expect(entries[1]?.commandId).toMatch(/^c_/);
  });

  it('the caps are settings, validated', () => {
    expect(configFromEnv({})).toMatchObject({
      remoteOpenMaxTtlSec: 600,
      remoteOpenLockersPerOperatorPerHour: 5,
      remoteOpenQueuedPerOperator: 5,
      remoteOpenOccupiedDailyAllowance: 3,
      remoteOpenOccupiedFleetPerHour: 10,
      remoteOpenApprovalTtlSec: 900,
      remoteOpenBurstWindowSec: 600,
      remoteOpenBurstPerOperator: 5,
      remoteOpenBurstFleet: 20,
      setServicePerOperatorPerMinute: 10,
      setServiceFleetPerMinute: 60,
    });
    const c = configFromEnv({ REMOTE_OPEN_LOCKERS_PER_OPERATOR_PER_HOUR: '2', REMOTE_OPEN_OCCUPIED_DAILY_ALLOWANCE: '0', SET_SERVICE_FLEET_PER_MINUTE: '5', REMOTE_OPEN_BURST_FLEET: '50' });
    expect(c).toMatchObject({ remoteOpenLockersPerOperatorPerHour: 2, remoteOpenOccupiedDailyAllowance: 0, setServiceFleetPerMinute: 5, remoteOpenBurstFleet: 50 });
    expect(() => configFromEnv({ REMOTE_OPEN_MAX_TTL_SEC: '5' })).toThrow(/REMOTE_OPEN_MAX_TTL_SEC/);
    expect(() => configFromEnv({ REMOTE_OPEN_BURST_PER_OPERATOR: '0' })).toThrow(/REMOTE_OPEN_BURST_PER_OPERATOR/);
  });
});
