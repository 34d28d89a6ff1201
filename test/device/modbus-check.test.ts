import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deviceSettings } from '../../device/config.js';
import { runHardwareCheck } from '../../device/hardware/hardware-check.js';
import { loadHardware } from '../../device/load-hardware.js';
import { BoardEmulator } from '../helpers/modbus-board-emulator.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-check-'));
const base = { LOCKER_ID: 'lk-check-1', COMPARTMENTS: 'A1:S,A2:M,B1:L', DEVICE_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
const emulator = new BoardEmulator([1, 2]);
let url = '';
const map = path.join(dir, 'map.yaml');
writeFileSync(map, 'timeoutMs: 100\nattempts: 2\ncompartments:\n  B1: { unit: 2, coil: 4, input: 4 }\n');

/** The checklist in this process, as main.ts runs it: its exit code and what it printed. */
async function check(extra: Record<string, string> = {}, pulse?: string): Promise<{ code: number; out: string }> {
  const driver = await loadHardware(deviceSettings({ ...base, LOCKSTEP_HARDWARE: url, HARDWARE_MAP: map, ...extra }));
  const lines: string[] = [];
  try {
    const code = await runHardwareCheck(driver, { pulse, wiring: `mapping file ${map}` }, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  } finally {
    await driver.close?.();
  }
}

beforeAll(async () => {
  url = await emulator.serveTcp();
});
afterAll(() => emulator.close());

describe('the driver registry', () => {
  it('`simulated` (what npm run device uses by default) resolves to the simulator module, which device/ never imports', async () => {
    const driver = await loadHardware(deviceSettings({ ...base, LOCKSTEP_HARDWARE: 'simulated' }));
    try {
      expect(driver.hardware.compartments().map((c) => c.id)).toEqual(['A1', 'A2', 'B1']);
      expect('openDoor' in driver.hardware).toBe(true);
    } finally {
      await driver.close?.();
    }
  });
});

describe('the hardware checklist', () => {
  it('lists every board with the coil and input of each compartment, pulses nothing, and exits 0', async () => {
    emulator.setInput(1, 1, false);
    const { code, out } = await check();
    emulator.setInput(1, 1, true);
    expect(code).toBe(0);
    expect(out).toContain(`lock boards on ${url} (mapping file ${map})`);
    expect(out).toMatch(/unit 1: answers\n {2}A1 +coil 0 +OFF +input 0 +closed\n {2}A2 +coil 1 +OFF +input 1 +open\nunit 2: answers\n {2}B1 +coil 4 +OFF +input 4 +closed/);
    expect(out).toContain('OK: 2 of 2 board(s) answer');
    expect(emulator.pulses).toEqual([]);
  });

  it('with --pulse pulses that one lock, on its own board, and switches the coil off again; an unknown compartment exits 2', async () => {
    const { code, out } = await check({}, 'B1');
    expect(code).toBe(0);
    expect(out).toContain('pulsed the lock of B1');
    expect(emulator.pulses.map((p) => `${p.unit}/${p.coil}`)).toEqual(['2/4']);
    expect(emulator.writes).toEqual(['2/4=1', '2/4=0']);
    expect((await check({}, 'Z9')).code).toBe(2);
    expect(emulator.pulses).toHaveLength(1);
  });

  it('a bad mapping file or address is refused with its code before anything is driven', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ compartments: { A1: { coil: 1 } } }));
    const err = await check({ HARDWARE_MAP: bad }).catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: 'DEVICE_HARDWARE_MAP_INVALID' });
    expect((err as { message: string }).message).toContain("/compartments/A2: coil 1 of unit 1 is A1's already");
    expect(await check({ LOCKSTEP_HARDWARE: 'modbus-tcp://' }).catch((e: unknown) => (e as { code: string }).code)).toBe('DEVICE_HARDWARE_ADDRESS_INVALID');
  });

  it('npm run device -- --check-hardware: a board that does not answer is named and the process exits 3, opening no store', async () => {
    emulator.silence(2);
    const out = await run('node_modules/.bin/tsx', ['device/main.ts', '--check-hardware', '--hardware', url, '--hardware-map', map], { env: { ...process.env, ...base } }).catch(
      (e: { code: number; stdout: string }) => e,
    );
    emulator.silence(2, false);
    expect(out).toMatchObject({ code: 3 });
    expect(out.stdout).toContain('unit 1: answers');
    expect(out.stdout).toContain('unit 2: NO ANSWER (NO_ANSWER)');
    expect(out.stdout).toContain('FAILED: 1 of 2 board(s) answer');
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });
});
