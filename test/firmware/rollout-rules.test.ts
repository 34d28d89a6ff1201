import { createHash, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firmwareSignedText } from '../../shared/messages.js';
import { checkArtefact, firmwareKey } from '../../device/update/firmware-check.js';
import { simulatedFirmware, simulatedHealthCheck } from '../../device/update/simulated-firmware.js';
import { redactLine } from '../../device/diagnostics.js';
import { assignWaves, gateVerdict, inWindow, localMinutes, wavesProblem } from '../../server/firmware/rollout-rules.js';
import { vendorKeys } from './firmware-fixture.js';

describe('rollout rules', () => {
  it('waves: percentages increase and end at 100; groups do not share a locker', () => {
    expect(wavesProblem([1, 10, 50, 100])).toBeNull();
    expect(wavesProblem([100])).toBeNull();
    expect(wavesProblem([10, 10, 100])).toMatch(/increase/);
    expect(wavesProblem([10, 50])).toMatch(/100/);
    expect(wavesProblem([['a', 'b'], ['c']])).toBeNull();
    expect(wavesProblem([['a'], ['a']])).toMatch(/two groups/);
  });

  it('assigns 1 % / 10 % / 50 % / 100 % of 200 lockers as 2 / 18 / 80 / 100, stable for a rollout', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `lk_${i}`);
    const waves = assignWaves('ro_1', ids, [1, 10, 50, 100]);
    const sizes = [0, 1, 2, 3].map((w) => [...waves.values()].filter((v) => v === w).length);
    expect(sizes).toEqual([2, 18, 80, 100]);
    expect(assignWaves('ro_1', [...ids].reverse(), [1, 10, 50, 100])).toEqual(waves);
    // Another rollout starts with other lockers.
    const first = (m: Map<string, number>) => [...m].filter(([, w]) => w === 0).map(([id]) => id).sort();
    expect(first(assignWaves('ro_2', ids, [1, 10, 50, 100]))).not.toEqual(first(waves));
    // A single locker still gets a first wave of one.
    expect([...assignWaves('ro_1', ['lk_x'], [1, 100]).values()]).toEqual([0]);
    expect(assignWaves('ro_1', [], [['a'], ['b', 'c']])).toEqual(new Map([['a', 0], ['b', 1], ['c', 1]]));
  });

  it('maintenance window in the locker’s local time, wrapping midnight', () => {
    // 2026-01-15 01:30 UTC = 02:30 in Warsaw (CET), 20:30 the day before in New York.
    const t = Date.UTC(2026, 0, 15, 1, 30);
    expect(localMinutes(t, 'Europe/Warsaw')).toBe(150);
    expect(inWindow(t, 'Europe/Warsaw', 120, 300)).toBe(true);
    expect(inWindow(t, 'America/New_York', 120, 300)).toBe(false);
    expect(inWindow(t, 'UTC', 120, 300)).toBe(false);
    expect(inWindow(t, 'America/New_York', 22 * 60, 5 * 60)).toBe(false);
    expect(inWindow(t, 'UTC', 22 * 60, 5 * 60)).toBe(true);
    expect(inWindow(t, 'UTC', 0, 0)).toBe(true);
    // Summer time: 01:30 UTC in July is 03:30 in Warsaw.
    expect(localMinutes(Date.UTC(2026, 6, 15, 1, 30), 'Europe/Warsaw')).toBe(210);
  });

  it('the health gate halts on failures over the share, or on more alarms than before', () => {
    const gate = { maxFailedPct: 10, maxAlarmIncrease: 2 };
    expect(gateVerdict({ size: 10, failed: 1, alarmsSince: 0, alarmsBefore: 0 }, gate)).toBeNull();
    expect(gateVerdict({ size: 10, failed: 2, alarmsSince: 0, alarmsBefore: 0 }, gate)).toMatch(/2 of 10/);
    expect(gateVerdict({ size: 10, failed: 0, alarmsSince: 5, alarmsBefore: 3 }, gate)).toBeNull();
    expect(gateVerdict({ size: 10, failed: 0, alarmsSince: 6, alarmsBefore: 3 }, gate)).toMatch(/alarms/);
    expect(gateVerdict({ size: 1, failed: 1, alarmsSince: 0, alarmsBefore: 0 }, { maxFailedPct: 0, maxAlarmIncrease: 0 })).not.toBeNull();
  });
});

describe('artefact check on the locker', () => {
  const vendor = vendorKeys();
  const bytes = simulatedFirmware('2.0.0');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const signature = sign(null, Buffer.from(firmwareSignedText('2.0.0', sha256)), vendor.privateKey).toString('base64url');
  const expected = { version: '2.0.0', sha256, size: bytes.length, signature };
  const key = firmwareKey(vendor.x);

  it('accepts the signed artefact, and refuses every change', () => {
    expect(checkArtefact(bytes, expected, key)).toBeNull();
    const flipped = Buffer.from(bytes);
    flipped[5] = flipped[5]! ^ 1;
    expect(checkArtefact(flipped, expected, key)).toBe('HASH_MISMATCH');
    expect(checkArtefact(Buffer.concat([bytes, Buffer.from(' ')]), expected, key)).toBe('SIZE_MISMATCH');
    // A command that claims the hash of the tampered bytes: the signature does not cover it.
    const claimed = createHash('sha256').update(flipped).digest('hex');
    expect(checkArtefact(flipped, { ...expected, sha256: claimed }, key)).toBe('BAD_SIGNATURE');
    // The same bytes passed off as another version.
    expect(checkArtefact(bytes, { ...expected, version: '9.0.0' }, key)).toBe('BAD_SIGNATURE');
    expect(checkArtefact(bytes, expected, firmwareKey(vendorKeys().x))).toBe('BAD_SIGNATURE');
    expect(checkArtefact(bytes, expected, undefined)).toBe('NO_TRUSTED_KEY');
  });

  it('the simulated firmware comes up unless marked bad', () => {
    expect(simulatedHealthCheck(simulatedFirmware('2.0.0'), '2.0.0')).toBe(true);
    expect(simulatedHealthCheck(simulatedFirmware('2.0.0', false), '2.0.0')).toBe(false);
    expect(simulatedHealthCheck(simulatedFirmware('2.0.0'), '2.0.1')).toBe(false);
    expect(simulatedHealthCheck(Buffer.from('not json'), '2.0.0')).toBe(false);
  });

  it('diagnostics log lines leave the locker without tokens or secret fields', () => {
    const jws = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwXzEyMyJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
    const line = redactLine(JSON.stringify({ msg: 'scan', qr: jws, pin: '12345678', note: `got ${jws}` }));
    expect(line).not.toContain('12345678');
    expect(line).not.toContain('eyJzdWIiOiJwXzEyMyJ9');
    expect(redactLine('x'.repeat(5000)).length).toBe(2000);
  });
});

describe('the firmware-rollout scenario', () => {
  it('loads, and picks the same failing lockers for the same seed', async () => {
    const { loadScenario } = await import('../../simulator/scenario.js');
    const { failingLockers } = await import('../../simulator/firmware-rollout.js');
    const s = loadScenario('scenarios/firmware-rollout.yaml');
    expect(s.firmwareRollout).toMatchObject({ version: '2.0.0', waves: [10, 50, 100], failShare: 0.15 });
    const failing = failingLockers(s.fleet.lockers, s.firmwareRollout!.failShare, s.seed ?? 1);
    expect(failing).toEqual(failingLockers(s.fleet.lockers, s.firmwareRollout!.failShare, s.seed ?? 1));
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.length).toBeLessThan(s.fleet.lockers);
  });
});
