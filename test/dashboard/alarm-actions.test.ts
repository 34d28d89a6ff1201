import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlarm } from '../../server/alarms/raise-alarm.js';
import { nextAlarmState } from '../../server/alarms/alarm-actions.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import { ApiClient } from '../../client/http-client.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
let operator: ApiClient;
let operatorId: string;
let lockerId: string;

beforeAll(async () => {
  t = await startTestServer();
  const account = await t.api.post<{ id: string; token: string }>('/v1/accounts', { name: 'Ops', role: 'operator' });
  operator = new ApiClient(t.httpUrl, account.token);
  operatorId = account.id;
  lockerId = (await registerLocker(t.api)).id;
});
afterAll(async () => {
  await t?.close();
});

async function raise(kind: string, compartmentId = 'A1'): Promise<AlarmView> {
  await t.server.ctx.db.transaction().execute((trx) => raiseAlarm(trx, { lockerId, compartmentId, kind, at: Date.now() }));
  const { items: alarms } = await operator.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${lockerId}&kind=${kind}`);
  return alarms.find((a) => a.state !== 'resolved')!;
}

describe('alarm state rules', () => {
  it('acknowledge only an open alarm; resolve an open or acknowledged one; resolved is final', () => {
    expect(nextAlarmState('open', 'acknowledge')).toBe('acknowledged');
    expect(nextAlarmState('acknowledged', 'acknowledge')).toBeNull();
    expect(nextAlarmState('resolved', 'acknowledge')).toBeNull();
    expect(nextAlarmState('open', 'resolve')).toBe('resolved');
    expect(nextAlarmState('acknowledged', 'resolve')).toBe('resolved');
    expect(nextAlarmState('resolved', 'resolve')).toBeNull();
  });
});

describe('POST /v1/alarms/:id/acknowledge and /resolve', () => {
  it('record who acted and when, with an optional note, and refuse moves the state does not allow', async () => {
    const alarm = await raise('door_left_open');
    const before = Date.now();
    const acked = await operator.post<AlarmView>(`/v1/alarms/${alarm.id}/acknowledge`, { note: 'courier called' });
    expect(acked).toMatchObject({ id: alarm.id, state: 'acknowledged', acknowledgedBy: `operator:${operatorId}`, note: 'courier called', resolvedAt: null });
    expect(acked.acknowledgedAt).toBeGreaterThanOrEqual(before);
    await expect(operator.post(`/v1/alarms/${alarm.id}/acknowledge`, {})).rejects.toMatchObject({ status: 409, code: 'ALARM_STATE_CONFLICT' });

    // The same fault again counts up on the acknowledged alarm.
    await raise('door_left_open');
    expect(await operator.get<AlarmView>(`/v1/alarms/${alarm.id}`)).toMatchObject({ state: 'acknowledged', count: 2 });

    const resolved = await t.api.post<AlarmView>(`/v1/alarms/${alarm.id}/resolve`, {});
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'admin:admin', acknowledgedBy: `operator:${operatorId}`, note: 'courier called' });
    await expect(operator.post(`/v1/alarms/${alarm.id}/resolve`, {})).rejects.toMatchObject({ status: 409, code: 'ALARM_STATE_CONFLICT' });
    await expect(operator.post(`/v1/alarms/${alarm.id}/acknowledge`, {})).rejects.toMatchObject({ status: 409, code: 'ALARM_STATE_CONFLICT' });

    // After it was resolved, the same fault raises a new alarm.
    const again = await raise('door_left_open');
    expect(again.id).not.toBe(alarm.id);
    expect(again).toMatchObject({ state: 'open', count: 1, acknowledgedBy: null });
  });

  it('resolves an open alarm directly, and a body is optional', async () => {
    const alarm = await raise('lock_jam', 'B1');
    const res = await fetch(`${t.httpUrl}/v1/alarms/${alarm.id}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${t.server.adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'resolved', acknowledgedAt: null, resolvedBy: 'admin:admin' });
  });

  it('lets one of two operators acting at once win; the other gets ALARM_STATE_CONFLICT', async () => {
    const alarm = await raise('forced_open', 'B1');
    const results = await Promise.allSettled([operator.post(`/v1/alarms/${alarm.id}/acknowledge`, {}), t.api.post(`/v1/alarms/${alarm.id}/acknowledge`, {})]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'ALARM_STATE_CONFLICT' } });
  });

  it('answers ALARM_NOT_FOUND, 401, 403 and VALIDATION_FAILED as the catalogue says, changing nothing', async () => {
    await expect(operator.post('/v1/alarms/al_nope/acknowledge', {})).rejects.toMatchObject({ status: 404, code: 'ALARM_NOT_FOUND' });
    await expect(operator.get('/v1/alarms/al_nope')).rejects.toMatchObject({ status: 404, code: 'ALARM_NOT_FOUND' });
    const alarm = await raise('session_aborted');
    const carrier = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Carrier', role: 'carrier' });
    await expect(new ApiClient(t.httpUrl, carrier.token).post(`/v1/alarms/${alarm.id}/acknowledge`, {})).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect(new ApiClient(t.httpUrl, 'x'.repeat(40)).post(`/v1/alarms/${alarm.id}/resolve`, {})).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    await expect(operator.post(`/v1/alarms/${alarm.id}/acknowledge`, { note: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(operator.post(`/v1/alarms/${alarm.id}/acknowledge`, { note: 'x'.repeat(501) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(operator.post(`/v1/alarms/${alarm.id}/acknowledge`, { by: 'someone else' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(operator.get('/v1/alarms?limit=0')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await operator.get<AlarmView>(`/v1/alarms/${alarm.id}`)).toMatchObject({ state: 'open', acknowledgedBy: null });
  });
});
