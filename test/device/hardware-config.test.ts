import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deviceSettings } from '../../device/config.js';
import { createDeviceLogger } from '../../device/device-logger.js';
import { loadHardware } from '../../device/load-hardware.js';
import { captureDeviceLog } from './capture-log.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-hardware-'));
const base = { LOCKER_ID: 'lk-hw-1', COMPARTMENTS: 'A1:S,B1:M', DEVICE_DATA_DIR: dir };

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

function moduleFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('hardware chosen by configuration', () => {
  it('the settings name a built-in driver or a module, exactly one of them', async () => {
    expect(deviceSettings({ ...base, LOCKSTEP_HARDWARE_MODULE: './x.ts' }).hardware).toEqual({ module: './x.ts' });
    expect(await codeOf(() => deviceSettings(base))).toBe('DEVICE_CONFIG_INVALID');
    expect(await codeOf(() => deviceSettings({ ...base, LOCKSTEP_HARDWARE: 'x', LOCKSTEP_HARDWARE_MODULE: './x.ts' }))).toBe('DEVICE_CONFIG_INVALID');
    expect(await codeOf(() => deviceSettings({ ...base, LOCKSTEP_HARDWARE: 'no-such-board' }))).toBe('DEVICE_HARDWARE_UNKNOWN');
    expect(await codeOf(() => deviceSettings({ ...base, LOCKSTEP_HARDWARE_MODULE: './x.ts', LOG_LEVEL: 'loud' }))).toBe('DEVICE_CONFIG_INVALID');
  });

  it('loads the simulator driver module by its path and gives it the configured compartments', async () => {
    const settings = deviceSettings({ ...base, LOCKSTEP_HARDWARE_MODULE: './simulator/simulated-hardware-driver.ts' });
    const driver = await loadHardware(settings);
    try {
      expect(driver.hardware.compartments()).toEqual([
        { id: 'A1', size: 'S' },
        { id: 'B1', size: 'M' },
      ]);
      expect(await driver.hardware.readDoor('A1')).toBe('closed');
    } finally {
      await driver.close?.();
    }
  });

  it('a module that is missing, has no createHardware, or whose factory gives no hardware is DEVICE_HARDWARE_MODULE_INVALID', async () => {
    const load = (module: string) => loadHardware({ lockerId: 'lk-hw-1', compartments: [{ id: 'A1', size: 'S' }], hardware: { module } }, dir);
    expect(await codeOf(() => load('./missing.mjs'))).toBe('DEVICE_HARDWARE_MODULE_INVALID');
    expect(await codeOf(() => load(moduleFile('no-factory.mjs', 'export const createHardwer = () => ({});\n')))).toBe('DEVICE_HARDWARE_MODULE_INVALID');
    expect(await codeOf(() => load(moduleFile('empty-driver.mjs', 'export async function createHardware() { return {}; }\n')))).toBe('DEVICE_HARDWARE_MODULE_INVALID');
  });

  it('the device refuses an unknown driver at start: exit 2 and DEVICE_HARDWARE_UNKNOWN, before it opens a store', async () => {
    const err = await run('node_modules/.bin/tsx', ['device/main.ts'], { env: { ...process.env, ...base, DEVICE_DATA_DIR: path.join(dir, 'never'), LOCKSTEP_HARDWARE: 'no-such-board' } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/^DEVICE_HARDWARE_UNKNOWN: unknown hardware driver "no-such-board"/);
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  });
});

describe('device logs', () => {
  it('are pino lines, data then message, with codes, grants and secrets redacted at any of two levels', () => {
    const { lines, logger } = captureDeviceLog();
    logger.info({ pin: '12345678', qr: 'eyJ-grant', nested: { password: 'broker-secret', grant: 'eyJ-other', token: 'enrol-token' }, compartmentId: 'A1' }, 'door opened');
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'door opened', component: 'device', compartmentId: 'A1', pin: '[redacted]', qr: '[redacted]' });
    for (const secret of ['12345678', 'eyJ-grant', 'broker-secret', 'eyJ-other', 'enrol-token']) expect(lines.join('')).not.toContain(secret);
  });

  it('below the level, nothing is written', () => {
    const lines: string[] = [];
    const logger = createDeviceLogger('warn', { write: (l: string) => void lines.push(l) });
    logger.info({ compartmentId: 'A1' }, 'door opened');
    logger.warn({ compartmentId: 'A1' }, 'door left open');
    expect(lines).toHaveLength(1);
  });
});
