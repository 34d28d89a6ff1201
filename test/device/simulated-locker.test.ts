import { SimulatedLocker } from '../../simulator/simulated-locker.js';
import { hardwareContract } from './hardware-contract.js';

hardwareContract('SimulatedLocker', async () => {
  const sim = new SimulatedLocker([
    { id: 'A1', size: 'S' },
    { id: 'B1', size: 'M' },
  ]);
  return {
    hardware: sim,
    pull: async (id) => sim.openDoor(id),
    push: async (id) => sim.closeDoor(id),
    typeCode: async (c) => sim.type(c),
    scan: async (d) => sim.scan(d),
    pressDoesNotFit: async () => sim.pressDoesNotFit(),
  };
});
