import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expireCommands } from '../../server/commands/commands.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { call, createAccount, type CreatedAccount } from './api-helpers.js';
import { lockersWithParcels, openCompartment, type OccupiedLocker } from './remote-open-helpers.js';
import { openLive, type SseStream } from '../dashboard/sse.js';

let t: TestServer;
let clock: ShiftClock;
let a: CreatedAccount;
let b: CreatedAccount;
let locker: OccupiedLocker;
const logLines: string[] = [];
let live: SseStream;

const audit = async (query: string) => (await call(t, t.server.adminToken, 'GET', `/v1/audit${query}`)).body.items as Record<string, unknown>[];

beforeAll(async () => {
  clock = new ShiftClock();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  t = await startTestServer({}, clock, pino({ level: 'info' }, sink));
  a = await createAccount(t, 'operator', 'day shift');
  b = await createAccount(t, 'operator', 'night shift');
  const carrier = await createAccount(t, 'carrier');
  [locker] = (await lockersWithParcels(t, carrier.token, 1, 6)) as [OccupiedLocker];
  // Another operator watches the dashboard's live stream.
  live = await openLive(t.httpUrl, b.token);
});
afterAll(async () => {
  live.close();
  await t.close();
});

describe('four-eyes: opening an occupied compartment beyond the daily allowance needs a second operator', () => {
  let requestId: string;

  it('three occupied compartments open on the allowance; the fourth waits as a request (202, pending_approval)', async () => {
    for (const c of ['C1', 'C2', 'C3']) {
      const res = await openCompartment(t, a.token, locker.lockerId, c);
      expect([res.status, res.body.state, res.body.type], c).toEqual([202, 'pending', 'open']);
    }
    const res = await openCompartment(t, a.token, locker.lockerId, 'C4');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ state: 'pending_approval', code: 'APPROVAL_REQUIRED', lockerId: locker.lockerId, compartmentId: 'C4', requestedBy: `operator:${a.id}`, commandId: null });
    requestId = res.body.requestId as string;
    expect(requestId).toMatch(/^ro_/);
    // Nothing was sent for it.
    const opens = await t.server.ctx.db.selectFrom('commands').select('compartment_id').where('type', '=', 'open').execute();
    expect(opens.map((o) => o.compartment_id).sort()).toEqual(['C1', 'C2', 'C3']);
    const listed = await call(t, b.token, 'GET', '/v1/remote-open-requests?state=pending_approval');
    expect((listed.body.requests as { requestId: string }[]).map((r) => r.requestId)).toEqual([requestId]);
  });

  it('the requester cannot approve it (403 REMOTE_OPEN_SELF_APPROVAL); another operator can, and the open is sent as the requester', async () => {
    const self = await call(t, a.token, 'POST', `/v1/remote-open-requests/${requestId}/approve`);
    expect([self.status, self.body.error?.code]).toEqual([403, 'REMOTE_OPEN_SELF_APPROVAL']);
    const ok = await call(t, b.token, 'POST', `/v1/remote-open-requests/${requestId}/approve`);
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ type: 'open', compartmentId: 'C4', requestedBy: `operator:${a.id}`, state: 'pending' });
    const again = await call(t, b.token, 'POST', `/v1/remote-open-requests/${requestId}/approve`);
    expect([again.status, again.body.error?.code, again.body.error?.details?.state]).toEqual([409, 'REMOTE_OPEN_REQUEST_NOT_PENDING', 'approved']);
    const missing = await call(t, b.token, 'POST', '/v1/remote-open-requests/ro_nope/approve');
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'REMOTE_OPEN_REQUEST_NOT_FOUND']);
  });

  it('every step is audited: the allowance opens, the pending request, the refused and the done approval', async () => {
    const mine = await audit(`?actor=${encodeURIComponent(`operator:${a.id}`)}`);
    expect(mine.map((e) => [e.action, e.result, e.code, e.compartmentId]).reverse()).toEqual([
      ['remote_open', 'created', null, 'C1'],
      ['remote_open', 'created', null, 'C2'],
      ['remote_open', 'created', null, 'C3'],
      ['remote_open', 'pending', null, 'C4'],
      ['remote_open.approve', 'refused', 'REMOTE_OPEN_SELF_APPROVAL', 'C4'],
    ]);
    const approvals = await audit(`?action=remote_open.approve&actor=${encodeURIComponent(`operator:${b.id}`)}`);
    expect(approvals.map((e) => [e.result, e.code, e.subject]).reverse()).toEqual([
      ['created', null, requestId],
      ['refused', 'REMOTE_OPEN_REQUEST_NOT_PENDING', requestId],
      ['refused', 'REMOTE_OPEN_REQUEST_NOT_FOUND', 'ro_nope'],
    ]);
    expect(approvals.at(-1)?.commandId).toMatch(/^c_/);
  });

  it('a request nobody approves expires (scheduler), audited by system; a late approval is refused', async () => {
    const res = await openCompartment(t, a.token, locker.lockerId, 'C5');
    expect(res.body.state).toBe('pending_approval');
    const late = await openCompartment(t, a.token, locker.lockerId, 'C6');
    clock.shiftMs += t.server.ctx.config.remoteOpenApprovalTtlSec * 1000 + 1000;
    expect((await call(t, b.token, 'POST', `/v1/remote-open-requests/${late.body.requestId as string}/approve`)).body.error).toMatchObject({
      code: 'REMOTE_OPEN_REQUEST_NOT_PENDING',
      details: { state: 'expired' },
    });
    await expireCommands(t.server.ctx);
    const rows = await t.server.ctx.db.selectFrom('remote_open_requests').select(['compartment_id', 'state']).where('compartment_id', 'in', ['C5', 'C6']).orderBy('compartment_id').execute();
    expect(rows).toEqual([
      { compartment_id: 'C5', state: 'expired' },
      { compartment_id: 'C6', state: 'expired' },
    ]);
    const expiries = await audit('?action=remote_open.expire');
    expect(expiries.map((e) => [e.actor, e.result, e.compartmentId]).sort()).toEqual([
      ['system', 'done', 'C5'],
      ['system', 'done', 'C6'],
    ]);
  });

  it('the burst of attempts raised a remote_open_burst alarm for the operator, listed with the alarms, and a warning in the log', async () => {
    const res = await call(t, b.token, 'GET', '/v1/alarms?kind=remote_open_burst');
    const alarms = res.body.items as { lockerId: string; state: string; detail: Record<string, unknown> }[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ lockerId: locker.lockerId, state: 'open', detail: { scope: 'operator', actor: `operator:${a.id}`, threshold: 5 } });
    // Pushed to the operators watching the live stream (at most one push per LIVE_PUSH_INTERVAL_MS, 1 s here).
    await expect
      .poll(() => live.events.some((e) => e.event === 'update' && JSON.stringify(e.data).includes('"kind":"remote_open_burst"')), { timeout: 5000 })
      .toBe(true);
    const warn = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; actor?: string }).find((l) => l.msg === 'remote open burst: alarm raised');
    expect(warn).toMatchObject({ level: 40, actor: `operator:${a.id}` });
  });
});
