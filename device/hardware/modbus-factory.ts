/**
 * The `modbus-tcp://` and `modbus-rtu://` drivers as device/hardware-drivers.ts registers them: the address
 * parsed, the wiring resolved (default, or the mapping file), every board read once, polling started.
 */
import type { HardwareDriver, HardwareDriverConfig } from '../hardware-drivers.js';
import { parseBusAddress } from './modbus-address.js';
import { ModbusLockerHardware } from './modbus-driver.js';
import { readHardwareMap, resolveWiring } from './modbus-wiring.js';

export async function createModbusHardware(config: HardwareDriverConfig): Promise<HardwareDriver & { hardware: ModbusLockerHardware }> {
  const address = parseBusAddress(config.spec);
  const map = config.mapFile ? readHardwareMap(config.mapFile) : {};
  const wiring = resolveWiring(config.compartments, map, config.mapFile, config.pollMs !== undefined ? { pollMs: config.pollMs } : {});
  const hardware = new ModbusLockerHardware({
    address,
    compartments: config.compartments,
    wiring,
    ...(config.clock ? { clock: config.clock } : {}),
    ...(config.log ? { log: config.log.child({ component: 'modbus' }) } : {}),
  });
  await hardware.start();
  return { hardware, close: () => hardware.close() };
}
