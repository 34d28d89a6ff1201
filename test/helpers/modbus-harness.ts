/** The Modbus driver on an emulated board, as the contract suite and the driver's own tests drive it. */
import { vi } from 'vitest';
import type { CompartmentInfo } from '../../device/hardware.js';
import { parseBusAddress } from '../../device/hardware/modbus-address.js';
import { ModbusLockerHardware } from '../../device/hardware/modbus-driver.js';
import { resolveWiring, type HardwareMap } from '../../device/hardware/modbus-wiring.js';
import type { HardwareHarness } from '../device/hardware-contract.js';
import { BoardEmulator } from './modbus-board-emulator.js';

export const TEST_COMPARTMENTS: CompartmentInfo[] = [
  { id: 'A1', size: 'S' },
  { id: 'A2', size: 'M' },
  { id: 'B1', size: 'L' },
];

/** Fast timings: a round of polls every 10 ms, answers awaited 150 ms. */
export const FAST: HardwareMap = { pollMs: 10, pulseMs: 20, timeoutMs: 150, attempts: 2, debounceReads: 2 };

export interface ModbusRig {
  emulator: BoardEmulator;
  hardware: ModbusLockerHardware;
  harness: HardwareHarness;
  close(): Promise<void>;
}

/** A board emulator served over `transport` and the driver started on it (default wiring unless `map` says). */
export async function modbusRig(transport: 'tcp' | 'rtu', options: { map?: HardwareMap; units?: number[]; compartments?: CompartmentInfo[]; prepare?: (emulator: BoardEmulator) => void } = {}): Promise<ModbusRig> {
  const compartments = options.compartments ?? TEST_COMPARTMENTS;
  const emulator = new BoardEmulator(options.units ?? [1]);
  const spec = transport === 'tcp' ? await emulator.serveTcp() : await emulator.serveRtu();
  options.prepare?.(emulator);
  const wiring = resolveWiring(compartments, { ...FAST, ...options.map }, 'test');
  const hardware = new ModbusLockerHardware({ address: parseBusAddress(spec), compartments, wiring });
  await hardware.start();
  const at = (id: string) => {
    const w = wiring.compartments.find((c) => c.id === id);
    if (!w) throw new Error(`no compartment ${id}`);
    return w;
  };
  const harness: HardwareHarness = {
    hardware,
    async pull(id) {
      const w = at(id);
      if (!emulator.pull(w.unit, w.coil, w.input)) return false;
      await vi.waitFor(async () => {
        if ((await hardware.readDoor(id)) !== 'open') throw new Error('not seen open yet');
      });
      return true;
    },
    async push(id) {
      const w = at(id);
      emulator.push(w.unit, w.coil, w.input);
      await vi.waitFor(async () => {
        if ((await hardware.readDoor(id)) !== 'closed') throw new Error('not seen closed yet');
      });
    },
    async typeCode(code) {
      hardware.typed(code);
    },
    async scan(data) {
      hardware.scanned(data);
    },
  };
  return {
    emulator,
    hardware,
    harness,
    async close() {
      await hardware.close();
      await emulator.close();
    },
  };
}
