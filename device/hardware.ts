import type { CompartmentSize } from '../shared/compartment-sizes.js';
import type { Telemetry } from '../shared/messages.js';

export type DoorState = 'open' | 'closed';

/**
 * A fault the hardware reports by itself (lock boards): a board that stopped answering (`board_down`, with why),
 * answers again (`board_up`), or a door sensor that did not change after its lock was pulsed (`sensor_suspect`).
 * The agent records each as an event; the server raises or clears the operator's alarm.
 */
export type HardwareFault =
  | { kind: 'board_down'; board: string; reason: string }
  | { kind: 'board_up'; board: string }
  | { kind: 'sensor_suspect'; compartmentId: string };

export interface CompartmentInfo {
  id: string;
  size: CompartmentSize;
}

/**
 * What the agent needs from the locker's hardware. The simulator implements it; a real driver (GPIO, RS-485
 * lock boards) would too. Every implementation must pass test/device/hardware-contract.ts.
 */
export interface LockerHardware {
  /** The compartments this controller drives. */
  compartments(): readonly CompartmentInfo[];
  /** Releases the latch of one compartment (a short pulse; the latch closes again when the door closes). */
  pulseLock(compartmentId: string): Promise<void>;
  /** The door sensor, read now. */
  readDoor(compartmentId: string): Promise<DoorState>;
  /** Calls `listener` on every door sensor change. Returns a function that stops listening. */
  onDoor(listener: (compartmentId: string, state: DoorState) => void): () => void;
  /** Calls `listener` with each code typed on the keypad (digits, confirmed by the user). */
  onKeypad(listener: (code: string) => void): () => void;
  /** Calls `listener` with each QR or barcode the scanner reads. */
  onScan(listener: (data: string) => void): () => void;
  /** Shows one line to the person at the locker. */
  display(line: string): void;
  /**
   * Calls `listener` when the courier presses the keypad's "does not fit" key (a parcel too big for the door
   * that opened). Optional: hardware without the key never reports it.
   */
  onDoesNotFit?(listener: () => void): () => void;
  /** Reads firmware version, temperature and power (sent with each heartbeat). Optional; may leave parts out. */
  telemetry?(): Promise<Telemetry>;
  /** Calls `listener` with each fault the hardware finds by itself (see HardwareFault). Optional. */
  onFault?(listener: (fault: HardwareFault) => void): () => void;
  /**
   * False when the lock of this compartment cannot be driven now (its board does not answer): the agent then
   * refuses a code before using it. Optional; hardware without it is always ready.
   */
  canPulse?(compartmentId: string): boolean;
}
