/**
 * The hardware checklist (`npm run device -- --check-hardware [--pulse A1]`): lists the boards, and the coil and
 * input of each compartment with what they read now; pulses nothing unless `--pulse` names one compartment.
 * Exit 0 when every board answered (and the pulse took), 3 when one did not.
 */
import type { HardwareDriver } from '../hardware-drivers.js';
import type { BoardReport } from './modbus-driver.js';

export const CHECK_FAILED_EXIT = 3;

/** A driver with a checklist (the Modbus drivers). */
interface Checkable {
  check(): Promise<BoardReport[]>;
  bus?: { description: string; errorsPerMinute(): number };
}

function checkable(hardware: unknown): hardware is Checkable {
  return typeof (hardware as { check?: unknown }).check === 'function';
}

export function formatBoards(reports: readonly BoardReport[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`unit ${r.unit}: ${r.answered ? 'answers' : `NO ANSWER (${r.error ?? 'unknown'})`}`);
    for (const c of r.compartments) {
      const coil = c.coilOn === undefined ? '?' : c.coilOn ? 'ON' : 'OFF';
      lines.push(`  ${c.id.padEnd(6)} coil ${String(c.coil).padEnd(4)} ${coil.padEnd(4)} input ${String(c.input).padEnd(4)} ${c.door ?? '?'}`);
    }
  }
  return lines;
}

/** Runs the checklist on a started driver; resolves with the exit code. */
export async function runHardwareCheck(driver: HardwareDriver, options: { pulse?: string | undefined; wiring: string }, say: (line: string) => void): Promise<number> {
  const { hardware } = driver;
  if (!checkable(hardware)) {
    say('this hardware driver has no checklist (only the lock-board drivers, modbus-tcp:// and modbus-rtu://, have one)');
    return 0;
  }
  say(`lock boards on ${hardware.bus?.description ?? 'the bus'} (${options.wiring})`);
  let ok = true;
  if (options.pulse !== undefined) {
    const id = options.pulse;
    if (!hardware.compartments().some((c) => c.id === id)) {
      say(`no compartment ${id}: the compartments are ${hardware.compartments().map((c) => c.id).join(', ')}`);
      return 2;
    }
    try {
      await hardware.pulseLock(id);
      say(`pulsed the lock of ${id}`);
    } catch (err) {
      ok = false;
      say(`could not pulse the lock of ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const reports = await hardware.check();
  for (const line of formatBoards(reports)) say(line);
  const answering = reports.filter((r) => r.answered).length;
  if (answering < reports.length) ok = false;
  say(`bus errors in the last minute: ${hardware.bus?.errorsPerMinute() ?? 0}`);
  say(`${ok ? 'OK' : 'FAILED'}: ${answering} of ${reports.length} board(s) answer${options.pulse !== undefined ? `; pulse of ${options.pulse} ${ok ? 'done' : 'failed'}` : ''}`);
  return ok ? 0 : CHECK_FAILED_EXIT;
}
