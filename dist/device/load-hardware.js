/** Starts the hardware driver the settings name: a built-in one, or a module loaded by a dynamic import. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeviceConfigError } from './config.js';
import { builtInHardware } from './hardware-drivers.js';
async function factoryFromModule(modulePath, cwd) {
    const url = pathToFileURL(path.resolve(cwd, modulePath)).href;
    let loaded;
    try {
        loaded = (await import(url));
    }
    catch (err) {
        throw new DeviceConfigError(`cannot load the hardware module ${modulePath}: ${err instanceof Error ? err.message : String(err)}`, 'DEVICE_HARDWARE_MODULE_INVALID');
    }
    if (typeof loaded.createHardware !== 'function') {
        throw new DeviceConfigError(`the hardware module ${modulePath} does not export a createHardware(config) function`, 'DEVICE_HARDWARE_MODULE_INVALID');
    }
    return loaded.createHardware;
}
function isDriver(value) {
    const hardware = value?.hardware;
    return typeof hardware?.pulseLock === 'function' && typeof hardware.compartments === 'function';
}
/**
 * The running driver for `settings.hardware`, told the locker's id and compartments. A module path is resolved
 * from `cwd` (the working folder). A module that cannot be loaded, has no `createHardware`, or whose factory
 * returns no hardware is DEVICE_HARDWARE_MODULE_INVALID.
 */
export async function loadHardware(settings, cwd = process.cwd()) {
    const choice = settings.hardware;
    const factory = 'driver' in choice ? builtInHardware(choice.driver) : await factoryFromModule(choice.module, cwd);
    if (!factory)
        throw new DeviceConfigError(`unknown hardware driver "${'driver' in choice ? choice.driver : ''}"`, 'DEVICE_HARDWARE_UNKNOWN');
    const config = { lockerId: settings.lockerId, compartments: settings.compartments };
    const driver = await factory(config);
    if (!isDriver(driver)) {
        throw new DeviceConfigError(`the hardware driver ${'driver' in choice ? choice.driver : choice.module} returned no { hardware } to drive`, 'DEVICE_HARDWARE_MODULE_INVALID');
    }
    return driver;
}
//# sourceMappingURL=load-hardware.js.map