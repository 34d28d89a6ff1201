/** Starts the hardware driver the settings name: a built-in one, or a module loaded by a dynamic import. */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { DeviceConfigError, type DeviceSettings } from './config.js';
import { builtInHardware, builtInHardwareModule, type HardwareDriver, type HardwareDriverConfig, type HardwareFactory } from './hardware-drivers.js';
import { HardwareConfigError } from './hardware/hardware-config-error.js';

/** The repository's root: built-in module names (`simulated`) are paths from there. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function factoryFromModule(modulePath: string, cwd: string): Promise<HardwareFactory> {
  const url = pathToFileURL(path.resolve(cwd, modulePath)).href;
  let loaded: { createHardware?: unknown };
  try {
    loaded = (await import(url)) as { createHardware?: unknown };
  } catch (err) {
    throw new DeviceConfigError(`cannot load the hardware module ${modulePath}: ${err instanceof Error ? err.message : String(err)}`, 'DEVICE_HARDWARE_MODULE_INVALID');
  }
  if (typeof loaded.createHardware !== 'function') {
    throw new DeviceConfigError(`the hardware module ${modulePath} does not export a createHardware(config) function`, 'DEVICE_HARDWARE_MODULE_INVALID');
  }
  return loaded.createHardware as HardwareFactory;
}

function isDriver(value: unknown): value is HardwareDriver {
  const hardware = (value as { hardware?: { pulseLock?: unknown; compartments?: unknown } } | null)?.hardware;
  return typeof hardware?.pulseLock === 'function' && typeof hardware.compartments === 'function';
}

/** What the agent's process hands a driver besides the settings. */
export interface HardwareExtras {
  log?: Logger;
  clock?: Clock;
}

/**
 * The running driver for `settings.hardware`, told the locker's id and compartments. A module path is resolved
 * from `cwd` (the working folder); a built-in name standing for a module (`simulated`) from the repository. A
 * module that cannot be loaded, has no `createHardware`, or whose factory returns no hardware is
 * DEVICE_HARDWARE_MODULE_INVALID; a driver's bad address or mapping file keeps the driver's code.
 */
export async function loadHardware(
  settings: Pick<DeviceSettings, 'lockerId' | 'compartments' | 'hardware'> & Partial<Pick<DeviceSettings, 'hardwareMap' | 'hardwarePollMs'>>,
  cwd = process.cwd(),
  extras: HardwareExtras = {},
): Promise<HardwareDriver> {
  const choice = settings.hardware;
  const spec = 'driver' in choice ? choice.driver : choice.module;
  const named = 'driver' in choice ? builtInHardwareModule(choice.driver) : undefined;
  const factory = 'module' in choice ? await factoryFromModule(choice.module, cwd) : named ? await factoryFromModule(named, ROOT) : builtInHardware(choice.driver);
  if (!factory) throw new DeviceConfigError(`unknown hardware driver "${spec}"`, 'DEVICE_HARDWARE_UNKNOWN');
  const config: HardwareDriverConfig = {
    lockerId: settings.lockerId,
    compartments: settings.compartments,
    spec,
    ...(settings.hardwareMap !== undefined ? { mapFile: path.resolve(cwd, settings.hardwareMap) } : {}),
    ...(settings.hardwarePollMs !== undefined ? { pollMs: settings.hardwarePollMs } : {}),
    ...extras,
  };
  let driver: unknown;
  try {
    driver = await factory(config);
  } catch (err) {
    if (err instanceof HardwareConfigError) throw new DeviceConfigError(err.message, err.code);
    throw err;
  }
  if (!isDriver(driver)) {
    throw new DeviceConfigError(`the hardware driver ${spec} returned no { hardware } to drive`, 'DEVICE_HARDWARE_MODULE_INVALID');
  }
  return driver;
}
