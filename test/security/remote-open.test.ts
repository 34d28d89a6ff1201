import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../server/config.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from './api-helpers.js';

interface Http {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; details?: Record<string, unknown> } };
  retryAfter: string | null;
}

interface AuditEntry {
  actor: string;
  action: string;
  result: 'created' | 'done' | 'refused';
  code: string | null;
  lockerId: string | null;
  compartmentId: string | null;
  reason: string | null;
  commandId: string | null;
  commandState: string | null;
  at: number;
}

let t: TestServer;
let clock: ShiftClock;
let lockerId: string;
const operators: CreatedAccount[] = [];

/** One request over real HTTP (fetch to the listening server). */
async function http(token: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Http> {
  const res = await fetch(`${t.httpUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Http['body'], retryAfter: res.headers.get('retry-after') };
}

const open = (token: string, compartmentId = 'A1', reason = 'customer on the phone, app broken') =>
  http(token, 'POST', `/v1/lockers/${lockerId}/commands`, { type: 'open', compartmentId, reason });
const audit = async (query = '') => (await http(t.server.adminToken, 'GET', `/v1/audit${query}`)).body.items as AuditEntry[];

beforeAll(async () => {
  clock = new ShiftClock();
  // The locker here never connects, so every open waits for an offline locker: lift the cap on queued opens
  // (REMOTE_OPEN_QUEUED_PER_OPERATOR, tested in remote-open-caps.test.ts) to test the per-minute limits alone.
  t = await startTestServer({ remoteOpenQueuedPerOperator: 100 }, clock);
  const locker = await http(t.server.adminToken, 'POST', '/v1/lockers', {
    name: 'Remote',
    location: { lat: 52, lon: 21 },
    compartments: ['A1', 'A2', 'A3'].map((id) => ({ id, size: 'S' })),
  });
  lockerId = locker.body.id as string;
  for (let i = 0; i < 7; i++) operators.push(await createAccount(t, 'operator', `operator ${i}`));
});
afterAll(() => t.close());

describe('remote open: audited, limited per operator and per fleet, one compartment at a time', () => {
  it('the 11th open by one operator within a minute is refused with REMOTE_OPEN_LIMITED (429) and retry-after; others still open', async () => {
    const [a, b] = operators as [CreatedAccount, CreatedAccount];
    for (let i = 0; i < 10; i++) {
      const res = await open(a.token, ['A1', 'A2', 'A3'][i % 3]);
      expect(res.status, `open ${i + 1}`).toBe(202);
    }
    const refused = await open(a.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'REMOTE_OPEN_LIMITED', details: { scope: 'operator', limit: 10 } });
    const retry = Number(refused.retryAfter);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(refused.body.error?.details?.retryAfterSec).toBe(retry);
    expect((await open(b.token)).status).toBe(202);
  });

  it('audits every call: who, when, which locker and compartment, why, and the result (created or refused)', async () => {
    const a = operators[0] as CreatedAccount;
    const entries = await audit(`?actor=${encodeURIComponent(`operator:${a.id}`)}&action=remote_open`);
    expect(entries).toHaveLength(11);
    expect(entries.filter((e) => e.result === 'created')).toHaveLength(10);
    const [newest] = entries;
    expect(newest).toMatchObject({ result: 'refused', code: 'REMOTE_OPEN_LIMITED', commandId: null, lockerId, compartmentId: 'A1' });
    for (const e of entries.filter((x) => x.result === 'created')) {
      expect(e).toMatchObject({ actor: `operator:${a.id}`, action: 'remote_open', lockerId, reason: 'customer on the phone, app broken', code: null });
      expect(e.commandId).toMatch(/^c_/);
      // The locker is not connected: the command waits; its final state will show here.
      expect(e.commandState).toBe('pending');
      expect(Math.abs(e.at - clock.now())).toBeLessThan(60_000);
    }
  });

  it('the fleet takes at most 60 remote opens a minute from all operators together (admins included)', async () => {
    const [, b, c, d, e, f, g] = operators as CreatedAccount[] as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
    // 11 so far; four operators open 10 each and one opens 9: 60.
    for (const op of [c, d, e, f]) for (let i = 0; i < 10; i++) expect((await open(op.token)).status).toBe(202);
    for (let i = 0; i < 9; i++) expect((await open(g.token)).status).toBe(202);
    for (const token of [g.token, b.token, t.server.adminToken]) {
      const res = await open(token);
      expect([res.status, res.body.error?.code, res.body.error?.details?.scope]).toEqual([429, 'REMOTE_OPEN_LIMITED', 'fleet']);
      expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    const created = (await audit('?action=remote_open&limit=1000')).filter((x) => x.result === 'created');
    expect(created).toHaveLength(60);
    const commands = await t.server.ctx.db.selectFrom('commands').select('id').where('type', '=', 'open').execute();
    expect(commands).toHaveLength(60);
  });

  it('a minute later the windows have moved on', async () => {
    clock.shiftMs += 61_000;
    expect((await open(operators[0]!.token)).status).toBe(202);
    expect((await open(t.server.adminToken)).status).toBe(202);
  });

  it('refusals for an unknown locker or compartment are audited too; carriers and bulk opens are refused', async () => {
    const op = operators[1] as CreatedAccount;
    const missing = await open(op.token, 'Z9');
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'COMPARTMENT_NOT_FOUND']);
    const [last] = await audit(`?actor=${encodeURIComponent(`operator:${op.id}`)}`);
    expect(last).toMatchObject({ result: 'refused', code: 'COMPARTMENT_NOT_FOUND', compartmentId: 'Z9', commandId: null });

    const carrier = await createAccount(t, 'carrier');
    expect((await open(carrier.token)).status).toBe(403);
    const url = `/v1/lockers/${lockerId}/commands`;
    for (const body of [
      { type: 'open', compartmentId: ['A1', 'A2'], reason: 'all of them' },
      { type: 'open', compartmentId: '*', reason: 'all of them' },
      { type: 'open', compartmentId: 'A1' },
      { type: 'open', compartmentId: 'A1', reason: '' },
      { type: 'open_all', compartmentId: 'A1', reason: 'all of them' },
    ]) {
      const res = await http(op.token, 'POST', url, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([400, 'VALIDATION_FAILED']);
    }
    const all = await http(op.token, 'POST', '/v1/lockers/*/commands', { type: 'open', compartmentId: 'A1', reason: 'all lockers' });
    expect(all.status).toBe(404);
    const operatorAudit = await http(op.token, 'GET', '/v1/audit');
    expect([operatorAudit.status, operatorAudit.body.error?.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('the limits are set by REMOTE_OPEN_PER_OPERATOR_PER_MINUTE and REMOTE_OPEN_FLEET_PER_MINUTE', () => {
    expect(configFromEnv({})).toMatchObject({ remoteOpenPerOperatorPerMinute: 10, remoteOpenFleetPerMinute: 60, keyActivationGraceSec: 604_800 });
    const c = configFromEnv({ REMOTE_OPEN_PER_OPERATOR_PER_MINUTE: '3', REMOTE_OPEN_FLEET_PER_MINUTE: '20', KEY_ACTIVATION_GRACE_SEC: '3600' });
    expect(c).toMatchObject({ remoteOpenPerOperatorPerMinute: 3, remoteOpenFleetPerMinute: 20, keyActivationGraceSec: 3600 });
    expect(() => configFromEnv({ REMOTE_OPEN_FLEET_PER_MINUTE: '0' })).toThrow(/REMOTE_OPEN_FLEET_PER_MINUTE/);
  });
});
