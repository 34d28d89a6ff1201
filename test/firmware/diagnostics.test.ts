import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnosticsView } from '../../shared/api/firmware.js';
import { startFirmwareFleet, type FirmwareFleet } from './firmware-fixture.js';

describe('remote diagnostics with a real agent', () => {
  let f: FirmwareFleet;
  beforeAll(async () => {
    f = await startFirmwareFleet(1);
  }, 30_000);
  afterAll(() => f?.close());

  it('pulls the agent’s log, outbox and doors on demand; the answer is stored and the request audited', async () => {
    const locker = f.lockers[0]!;
    locker.hardware.forceOpen('A2');
    await expect.poll(() => locker.agent.doors.isBusy('A2')).toBe(true);
    const asked = await f.call('POST', `/v1/lockers/${locker.id}/diagnostics`, { reason: 'door sensor check', logLines: 50 });
    expect(asked.status).toBe(202);
    const id = asked.body.requestId as string;
    expect(asked.body).toMatchObject({ state: 'pending', lockerId: locker.id, result: null });
    await expect
      .poll(async () => ((await f.call('GET', `/v1/lockers/${locker.id}/diagnostics/${id}`)).body as unknown as DiagnosticsView).state, { timeout: 10_000 })
      .toBe('completed');
    const view = (await f.call('GET', `/v1/lockers/${locker.id}/diagnostics/${id}`)).body as unknown as DiagnosticsView;
    expect(view.result).toMatchObject({ bootId: locker.agent.bootId, firmwareVersion: '1.0.0', connected: true, outbox: expect.any(Number) as number });
    expect(view.result?.compartments).toEqual([
      { id: 'A1', door: 'closed', fault: null, busy: false, inService: true },
      { id: 'A2', door: 'open', fault: null, busy: true, inService: true },
    ]);
    expect(view.result?.log.length).toBeGreaterThan(0);
    expect(view.result?.log.length).toBeLessThanOrEqual(50);
    const audit = (await f.call('GET', '/v1/audit?action=diagnostics')).body.items as { subject: string; lockerId: string; reason: string; result: string }[];
    expect(audit).toMatchObject([{ subject: id, lockerId: locker.id, reason: 'door sensor check', result: 'created' }]);
    // Another locker's id in the path does not read it; an unknown locker is refused and audited.
    expect((await f.call('GET', `/v1/lockers/lk_other/diagnostics/${id}`)).status).toBe(404);
    expect((await f.call('POST', '/v1/lockers/lk_nope/diagnostics', { reason: 'nope' })).status).toBe(404);
    locker.hardware.closeDoor('A2');
  });

  it('a forged or expired device link is refused and stores nothing', async () => {
    const locker = f.lockers[0]!;
    const id = (await f.call('POST', `/v1/lockers/${locker.id}/diagnostics`, { reason: 'forgery test', ttlSec: 60 })).body.requestId as string;
    const body = { at: 1, bootId: 'b', outbox: 0, lastSeq: 0, connected: true, compartments: [], log: ['forged'] };
    const res = await fetch(`${f.t.httpUrl}/v1/device/diagnostics/${id}?locker=${locker.id}&exp=99999999999999&sig=AAAA`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DEVICE_LINK_INVALID');
    await expect.poll(async () => ((await f.call('GET', `/v1/lockers/${locker.id}/diagnostics/${id}`)).body as unknown as DiagnosticsView).state).toBe('completed');
    const view = (await f.call('GET', `/v1/lockers/${locker.id}/diagnostics/${id}`)).body as unknown as DiagnosticsView;
    expect(view.result?.log).not.toContain('forged');
  });
});
