import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import type { TestServer } from '../helpers/test-server.js';
import { call, createAccount } from './api-helpers.js';
import { lockersWithParcels, openCompartment } from './remote-open-helpers.js';

/** The remote-open caps on Postgres with two server processes: the checks are serialised, so none is exceeded. */
let servers: TwoServers;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  servers = await startTwoServersOnPostgres('opens');
  ({ a, b } = servers);
}, 60_000);

afterAll(async () => {
  await servers?.close();
});

describe('Postgres: remote-open caps under concurrent requests on two servers', () => {
  it('12 opens at once in 12 lockers by one operator, half on each server: exactly 5 lockers (the cap) are opened', async () => {
    const carrier = await createAccount(a, 'carrier');
    const operator = await createAccount(a, 'operator', 'stolen');
    const lockers = await lockersWithParcels(a, carrier.token, 12, 1, 0);
    const replies = await Promise.all(lockers.map((l, i) => openCompartment(i % 2 === 0 ? a : b, operator.token, l.lockerId, 'C1')));
    const codes = replies.map((r) => (r.status === 202 ? 'sent' : r.body.error?.code));
    expect(codes.filter((c) => c === 'sent')).toHaveLength(5);
    expect(codes.filter((c) => c !== 'sent').every((c) => c === 'REMOTE_OPEN_LOCKERS_LIMITED')).toBe(true);
    const sent = await a.server.ctx.db.selectFrom('commands').select('locker_id').where('type', '=', 'open').execute();
    expect(new Set(sent.map((s) => s.locker_id)).size).toBe(5);
  });

  it('four-eyes on Postgres: the fourth occupied open waits, another operator approves it on the other server', async () => {
    const carrier = await createAccount(a, 'carrier');
    const [requester, approver] = [await createAccount(a, 'operator', 'day'), await createAccount(a, 'operator', 'night')];
    const [locker] = await lockersWithParcels(a, carrier.token, 1, 4);
    const lockerId = locker!.lockerId;
    for (const c of ['C1', 'C2', 'C3']) expect((await openCompartment(a, requester.token, lockerId, c)).body.type).toBe('open');
    const pending = await openCompartment(b, requester.token, lockerId, 'C4');
    expect(pending.body).toMatchObject({ state: 'pending_approval', code: 'APPROVAL_REQUIRED' });
    const id = pending.body.requestId as string;
    expect((await call(a, requester.token, 'POST', `/v1/remote-open-requests/${id}/approve`)).body.error?.code).toBe('REMOTE_OPEN_SELF_APPROVAL');
    const approved = await call(b, approver.token, 'POST', `/v1/remote-open-requests/${id}/approve`);
    expect(approved.body).toMatchObject({ type: 'open', compartmentId: 'C4', requestedBy: `operator:${requester.id}` });
  });
});
