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
let locker: OccupiedLocker;

const pendingOf = async (who: CreatedAccount) =>
  ((await call(t, b.token, 'GET', '/v1/remote-open-requests?state=pending_approval')).body.requests as { requestedBy: string }[]).filter(
    (r) => r.requestedBy === `operator:${who.id}`,
  ).length;

beforeAll(async () => {
  clock = new ShiftClock();
  // No allowance: every open of an occupied compartment waits for approval; two may wait per principal.
  t = await startTestServer({ remoteOpenOccupiedDailyAllowance: 0, remoteOpenPendingPerOperator: 2 }, clock);
  a = await createAccount(t, 'operator', 'day shift');
  b = await createAccount(t, 'operator', 'night shift');
  const carrier = await createAccount(t, 'carrier');
  [locker] = (await lockersWithParcels(t, carrier.token, 1, 5)) as [OccupiedLocker];
});
afterAll(() => t.close());

describe('requests to open occupied compartments waiting for approval: capped per principal (REMOTE_OPEN_PENDING_PER_OPERATOR)', () => {
  let first: string;

  it('a third request while two wait is 429 REMOTE_OPEN_PENDING_FULL, audited, and files nothing; another operator is not held by it', async () => {
    const filed = [await openCompartment(t, a.token, locker.lockerId, 'C1'), await openCompartment(t, a.token, locker.lockerId, 'C2')];
    expect(filed.map((r) => [r.status, r.body.state])).toEqual([
      [202, 'pending_approval'],
      [202, 'pending_approval'],
    ]);
    first = filed[0]!.body.requestId as string;
    const third = await openCompartment(t, a.token, locker.lockerId, 'C3');
    expect([third.status, third.body.error?.code, third.body.error?.details]).toEqual([429, 'REMOTE_OPEN_PENDING_FULL', { scope: 'operator_pending', limit: 2, retryAfterSec: 900 }]);
    // Until the oldest of the two expires (REMOTE_OPEN_APPROVAL_TTL_SEC, 900 s; the clock did not move).
    expect(third.headers['retry-after']).toBe('900');
    expect(await pendingOf(a)).toBe(2);
    const [last] = (await call(t, t.server.adminToken, 'GET', `/v1/audit?action=remote_open&actor=${encodeURIComponent(`operator:${a.id}`)}`)).body.items as Record<string, unknown>[];
    expect(last).toMatchObject({ result: 'refused', code: 'REMOTE_OPEN_PENDING_FULL', lockerId: locker.lockerId, compartmentId: 'C3' });
    expect((await openCompartment(t, b.token, locker.lockerId, 'C3')).body.state).toBe('pending_approval');
  });

  it('a request approved or expired frees its place', async () => {
    expect((await call(t, b.token, 'POST', `/v1/remote-open-requests/${first}/approve`)).status).toBe(202);
    expect((await openCompartment(t, a.token, locker.lockerId, 'C4')).body.state).toBe('pending_approval');
    expect((await openCompartment(t, a.token, locker.lockerId, 'C5')).body.error?.code).toBe('REMOTE_OPEN_PENDING_FULL');
    // Past the approval ttl (900 s): the two waiting have expired, even before the scheduler marks them.
    clock.shiftMs += 901_000;
    expect((await openCompartment(t, a.token, locker.lockerId, 'C5')).body.state).toBe('pending_approval');
  });

  it('is a setting, validated', () => {
    expect(configFromEnv({}).remoteOpenPendingPerOperator).toBe(5);
    expect(configFromEnv({ REMOTE_OPEN_PENDING_PER_OPERATOR: '12' }).remoteOpenPendingPerOperator).toBe(12);
    expect(() => configFromEnv({ REMOTE_OPEN_PENDING_PER_OPERATOR: '0' })).toThrow(/REMOTE_OPEN_PENDING_PER_OPERATOR/);
  });
});
