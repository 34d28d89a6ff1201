/**
 * What the agent records for a fault its hardware found by itself (device/hardware.ts, HardwareFault): a lock
 * board that stopped answering or answers again (the server raises and resolves `hardware_fault` per board), a
 * door sensor that did not change after its lock was pulsed (`door_sensor_suspect`). Pure.
 */
import type { HardwareFault } from './hardware.js';
import type { NewEvent } from './store/device-store.js';

export function faultEvent(fault: HardwareFault): NewEvent {
  switch (fault.kind) {
    case 'board_down':
      return { type: 'hardware.fault', board: fault.board, reason: fault.reason };
    case 'board_up':
      return { type: 'hardware.recovered', board: fault.board };
    case 'sensor_suspect':
      return { type: 'door.sensor_suspect', compartmentId: fault.compartmentId, reason: 'NO_CHANGE_AFTER_PULSE' };
  }
}

/** Why a door session ended when the lock could not be driven (its board did not answer, its coil did not take). */
export const LOCK_NOT_DRIVEN = 'HARDWARE_FAULT';
