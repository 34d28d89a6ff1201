/**
 * How the agent gets its hardware: by configuration, never by import. A driver is a factory that, given the
 * locker's id and compartments, returns a `LockerHardware` (and, optionally, a way to stop and release it).
 * Built-in drivers live under device/ and are registered below by name (`LOCKSTEP_HARDWARE=<name>`); any other
 * driver is a module named by path (`LOCKSTEP_HARDWARE_MODULE=./path.ts`) that exports `createHardware`, of type
 * `HardwareFactory` (the simulator's is simulator/simulated-hardware-driver.ts).
 */
import type { CompartmentInfo, LockerHardware } from './hardware.js';

/** What a driver is told about the locker it drives. */
export interface HardwareDriverConfig {
  readonly lockerId: string;
  readonly compartments: readonly CompartmentInfo[];
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

/** Built-in drivers by name (none yet: the lock-board drivers will register here). */
const BUILT_IN: Readonly<Record<string, HardwareFactory>> = {};

/** The names `LOCKSTEP_HARDWARE` accepts. */
export function builtInHardwareNames(): string[] {
  return Object.keys(BUILT_IN);
}

/** The factory of a built-in driver, or undefined for an unknown name. */
export function builtInHardware(name: string): HardwareFactory | undefined {
  return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
}
