import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decoderFor, encode } from '../../shared/codec.js';
import { HeartbeatMessage } from '../../shared/messages.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

let f: LockerFixture;
beforeAll(async () => {
  f = await startLockerFixture({ server: { lowBatteryPct: 20 } });
});
afterAll(() => f.close());

const alarms = (q = '') => f.t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${f.locker.id}${q}`).then((r) => r.items);
const telemetry = async () => (await f.view()).telemetry;

/** Sends a heartbeat now and waits until the server stored the reading it carried. */
async function heartbeat(check: (t: Awaited<ReturnType<typeof telemetry>>) => boolean): Promise<void> {
  await f.locker.agent.sync.sendHeartbeat();
  await expect.poll(async () => check(await telemetry()), { message: 'the telemetry to reach the server' }).toBe(true);
}

describe('locker telemetry', () => {
  it('shows firmware, temperature and power in the locker view', async () => {
    expect(await telemetry()).toBeNull();
    await heartbeat((t) => t !== null);
    expect(await telemetry()).toMatchObject({ firmwareVersion: 'sim-1.0.0', temperatureC: 21, power: { source: 'mains', batteryPct: 100 } });
    expect(await alarms()).toEqual([]);
  });

  it('raises on_backup_power once and battery_low below the threshold, updates them, and resolves both when mains returns', async () => {
    const hw = f.locker.hardware;
    hw.setTelemetry({ power: { source: 'battery', batteryPct: 80 }, temperatureC: 35.5 });
    await heartbeat((t) => t?.power?.source === 'battery');
    expect(await telemetry()).toMatchObject({ temperatureC: 35.5, power: { source: 'battery', batteryPct: 80 } });
    expect((await alarms()).map((a) => a.kind)).toEqual(['on_backup_power']);

    hw.setTelemetry({ power: { source: 'battery', batteryPct: 15 } });
    await heartbeat((t) => t?.power?.batteryPct === 15);
    hw.setTelemetry({ power: { source: 'battery', batteryPct: 12 } });
    await heartbeat((t) => t?.power?.batteryPct === 12);
    const open = await alarms('&state=open');
    expect(open.map((a) => a.kind).sort()).toEqual(['battery_low', 'on_backup_power']);
    // One alarm each, raised once: later readings update what it says, they do not count up or repeat it.
    for (const a of open) expect(a.count).toBe(1);
    expect(open.find((a) => a.kind === 'battery_low')?.detail).toMatchObject({ batteryPct: 12, thresholdPct: 20 });
    expect(open.find((a) => a.kind === 'on_backup_power')?.detail).toMatchObject({ source: 'battery', batteryPct: 12 });

    // An operator acknowledges one; the server still resolves it when the condition is gone.
    const backup = open.find((a) => a.kind === 'on_backup_power');
    await f.t.api.post(`/v1/alarms/${backup?.id}/acknowledge`, { note: 'technician on the way' });

    hw.setTelemetry({ power: { source: 'mains', batteryPct: 40 } });
    await heartbeat((t) => t?.power?.source === 'mains');
    expect(await alarms('&state=open')).toEqual([]);
    expect(await alarms('&state=acknowledged')).toEqual([]);
    const resolved = await alarms('&state=resolved');
    expect(resolved.map((a) => a.kind).sort()).toEqual(['battery_low', 'on_backup_power']);
    for (const a of resolved) expect(a.resolvedBy).toBe('system');
    expect(resolved.find((a) => a.kind === 'on_backup_power')).toMatchObject({ acknowledgedBy: expect.any(String), note: 'technician on the way' });

    // The same fault again is a new alarm; the history keeps the old one.
    hw.setTelemetry({ power: { source: 'battery', batteryPct: 90 } });
    await heartbeat((t) => t?.power?.source === 'battery');
    expect((await alarms('&kind=on_backup_power')).map((a) => a.state)).toEqual(['open', 'resolved']);
  });

  it('a heartbeat with telemetry out of range is refused whole by the server; the locker never sends one', () => {
    const decode = decoderFor(HeartbeatMessage);
    const base = { v: 1, bootId: 'b1', at: 1, lastSeq: 0, outbox: 0, appliedVersion: 0 };
    expect(decode(encode({ ...base, telemetry: { power: { source: 'battery', batteryPct: 50 } } })).ok).toBe(true);
    expect(decode(encode({ ...base, telemetry: { power: { source: 'battery', batteryPct: 150 } } })).ok).toBe(false);
    expect(decode(encode({ ...base, telemetry: { power: { source: 'solar' } } })).ok).toBe(false);
    expect(decode(encode({ ...base, telemetry: { humidity: 3 } })).ok).toBe(false);
  });

  it('a sensor that reads nonsense costs only its telemetry, never the heartbeat', async () => {
    const hw = f.locker.hardware;
    const before = await telemetry();
    hw.setTelemetry({ power: { source: 'battery', batteryPct: 150 } });
    const seenBefore = (await f.view()).lastSeenAt ?? 0;
    await new Promise((r) => setTimeout(r, 5));
    await f.locker.agent.sync.sendHeartbeat();
    await expect.poll(async () => ((await f.view()).lastSeenAt ?? 0) > seenBefore, { message: 'the heartbeat to reach the server' }).toBe(true);
    expect(await telemetry()).toEqual(before);
  });
});
