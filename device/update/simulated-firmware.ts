/**
 * The firmware of the simulated hardware: a small JSON manifest instead of a controller image. `comesUp: false`
 * makes a version that installs fine but does not come up (its health check fails), so the fallback to the
 * previous version and the server's health gate can be exercised for real. A real controller's health check is
 * its new agent starting and reaching the broker (docs/firmware.md).
 */
export interface SimulatedFirmware {
  format: 'lockstep-simulated-firmware';
  version: string;
  comesUp: boolean;
}

export function simulatedFirmware(version: string, comesUp = true): Buffer {
  const manifest: SimulatedFirmware = { format: 'lockstep-simulated-firmware', version, comesUp };
  return Buffer.from(JSON.stringify(manifest), 'utf8');
}

/** True when `bytes` are a simulated firmware of `version` that comes up. Anything else does not come up. */
export function simulatedHealthCheck(bytes: Uint8Array, version: string): boolean {
  try {
    const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<SimulatedFirmware>;
    return m.format === 'lockstep-simulated-firmware' && m.version === version && m.comesUp === true;
  } catch {
    return false;
  }
}
