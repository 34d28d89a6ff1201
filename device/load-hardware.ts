/** Starts the hardware driver the settings name: a built-in one, or a module loaded by a dynamic import. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeviceConfigError, type DeviceSettings } from './config.js';
import { builtInHardware, type HardwareDriver, type HardwareDriverConfig, type HardwareFactory } from './hardware-drivers.js';

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

/**
 * The running driver for `settings.hardware`, told the locker's id and compartments. A module path is resolved
 * from `cwd` (the working folder). A module that cannot be loaded, has no `createHardware`, or whose factory
 * returns no hardware is DEVICE_HARDWARE_MODULE_INVALID.
 */
export async function loadHardware(settings: Pick<DeviceSettings, 'lockerId' | 'compartments' | 'hardware'>, cwd = process.cwd()): Promise<HardwareDriver> {
  const choice = settings.hardware;
  const factory = 'driver' in choice ? builtInHardware(choice.driver) : await factoryFromModule(choice.module, cwd);
  if (!factory) throw new DeviceConfigError(`unknown hardware driver "${'driver' in choice ? choice.driver : ''}"`, 'DEVICE_HARDWARE_UNKNOWN');
  const config: HardwareDriverConfig = { lockerId: settings.lockerId, compartments: settings.compartments };
  const driver: unknown = await factory(config);
  if (!isDriver(driver)) {
    throw new DeviceConfigError(`the hardware driver ${'driver' in choice ? choice.driver : choice.module} returned no { hardware } to drive`, 'DEVICE_HARDWARE_MODULE_INVALID');
  }
  return driver;
}
