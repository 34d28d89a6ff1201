/**
 * How the agent gets its hardware: by configuration, never by import. A driver is a factory that, given the
 * locker's id and compartments, returns a `LockerHardware` (and, optionally, a way to stop and release it).
 * Built-in drivers are registered below by name, the scheme of the `--hardware` value (`LOCKSTEP_HARDWARE`):
 * `modbus-tcp://HOST:PORT`, `modbus-rtu:///dev/ttyUSB0?baud=9600`, or `simulated`. A name may also stand for a
 * module loaded by path (`simulated` is the simulator's, which device/ never imports); any other driver is a
 * module named by path (`LOCKSTEP_HARDWARE_MODULE=./path.ts`) that exports `createHardware`, of type
 * `HardwareFactory` (the simulator's is simulator/simulated-hardware-driver.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { CompartmentInfo, LockerHardware } from './hardware.js';
import { createModbusHardware } from './hardware/modbus-factory.js';

/** What a driver is told about the locker it drives. */
export interface HardwareDriverConfig {
  readonly lockerId: string;
  readonly compartments: readonly CompartmentInfo[];
  /** The whole `--hardware` value (`modbus-tcp://10.0.0.5:502`); the name for a module driver. */
  readonly spec: string;
  /** The mapping file (`--hardware-map`), for drivers that have wiring. */
  readonly mapFile?: string;
  /** How often sensors are read, ms, for drivers that poll (overrides the mapping file). */
  readonly pollMs?: number;
  readonly log?: Logger;
  readonly clock?: Clock;
}

/** A running driver. */
export interface HardwareDriver {
  readonly hardware: LockerHardware;
  /** Resolves when the driver asks the agent to stop (a console's "quit"); real hardware never does. */
  readonly stopRequested?: Promise<void>;
  /** Releases what the driver holds (a serial port, the terminal). */
  close?(): Promise<void>;
}

export type HardwareFactory = (config: HardwareDriverConfig) => Promise<HardwareDriver>;

/** Built-in drivers by name. */
const BUILT_IN: Readonly<Record<string, HardwareFactory>> = {
  'modbus-tcp': createModbusHardware,
  'modbus-rtu': createModbusHardware,
};

/** Names that stand for a driver module, by its path from the repository root (loaded, never imported). */
const BUILT_IN_MODULES: Readonly<Record<string, string>> = {
  simulated: 'simulator/simulated-hardware-driver.ts',
};

/** The driver name of a `--hardware` value: its scheme (`modbus-tcp`), or the whole value when it has none (`simulated`). */
export function hardwareScheme(spec: string): string {
  const at = spec.indexOf('://');
  return at < 0 ? spec : spec.slice(0, at);
}

/** The names `LOCKSTEP_HARDWARE` accepts. */
export function builtInHardwareNames(): string[] {
  return [...Object.keys(BUILT_IN_MODULES), ...Object.keys(BUILT_IN)];
}

/** The factory of a built-in driver, or undefined for an unknown name (or one that is a module). */
export function builtInHardware(spec: string): HardwareFactory | undefined {
  const name = hardwareScheme(spec);
  return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
}

/** The module path (from the repository root) a built-in name stands for, if it is one. */
export function builtInHardwareModule(spec: string): string | undefined {
  return Object.hasOwn(BUILT_IN_MODULES, spec) ? BUILT_IN_MODULES[spec] : undefined;
}
