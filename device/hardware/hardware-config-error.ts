/**
 * A driver's settings that cannot work: a bad `--hardware` address or mapping file. device/load-hardware.ts
 * turns it into the agent's DeviceConfigError with the same code (exit 2 at start).
 */
export type HardwareConfigErrorCode = 'DEVICE_HARDWARE_ADDRESS_INVALID' | 'DEVICE_HARDWARE_MAP_INVALID';

export class HardwareConfigError extends Error {
  constructor(
    message: string,
    readonly code: HardwareConfigErrorCode,
  ) {
    super(message);
  }
}
