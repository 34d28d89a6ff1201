import { afterEach } from 'vitest';
import { hardwareContract } from './hardware-contract.js';
import { modbusRig, type ModbusRig } from '../helpers/modbus-harness.js';

const rigs: ModbusRig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.close()));
});

for (const transport of ['tcp', 'rtu'] as const) {
  hardwareContract(`Modbus ${transport.toUpperCase()} driver on an emulated lock board`, async () => {
    const rig = await modbusRig(transport);
    rigs.push(rig);
    return rig.harness;
  });
}
