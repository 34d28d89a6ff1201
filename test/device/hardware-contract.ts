import { describe, expect, it } from 'vitest';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { LockerHardware } from '../../device/hardware.js';
import { Telemetry } from '../../shared/messages.js';

/** What a test needs to act as the person at the locker, for any implementation of LockerHardware. */
export interface HardwareHarness {
  hardware: LockerHardware;
  /** Pull the door; true when it opened. */
  pull(compartmentId: string): Promise<boolean>;
  push(compartmentId: string): Promise<void>;
  typeCode(code: string): Promise<void>;
  scan(data: string): Promise<void>;
  /** Presses the "does not fit" key, where the hardware has one. */
  pressDoesNotFit?(): Promise<void>;
}

/** The contract every LockerHardware implementation must keep (simulated or a real driver on a test rig). */
export function hardwareContract(name: string, make: () => Promise<HardwareHarness>): void {
  describe(`LockerHardware contract: ${name}`, () => {
    it('lists its compartments with sizes', async () => {
      const h = await make();
      const list = h.hardware.compartments();
      expect(list.length).toBeGreaterThan(0);
      for (const c of list) expect(['S', 'M', 'L', 'XL']).toContain(c.size);
    });

    it('keeps a door latched until its lock is pulsed', async () => {
      const h = await make();
      const id = h.hardware.compartments()[0]!.id;
      expect(await h.pull(id)).toBe(false);
      expect(await h.hardware.readDoor(id)).toBe('closed');
      await h.hardware.pulseLock(id);
      expect(await h.pull(id)).toBe(true);
      expect(await h.hardware.readDoor(id)).toBe('open');
    });

    it('reports door changes to listeners, and re-latches when the door closes', async () => {
      const h = await make();
      const id = h.hardware.compartments()[0]!.id;
      const seen: string[] = [];
      const stop = h.hardware.onDoor((c, s) => seen.push(`${c}:${s}`));
      await h.hardware.pulseLock(id);
      await h.pull(id);
      await h.push(id);
      expect(seen).toEqual([`${id}:open`, `${id}:closed`]);
      expect(await h.pull(id)).toBe(false);
      stop();
      await h.hardware.pulseLock(id);
      await h.pull(id);
      expect(seen).toHaveLength(2);
    });

    it('pulsing one lock releases only that door', async () => {
      const h = await make();
      const [a, b] = h.hardware.compartments();
      if (!a || !b) return;
      await h.hardware.pulseLock(a.id);
      expect(await h.pull(b.id)).toBe(false);
      expect(await h.pull(a.id)).toBe(true);
    });

    it('delivers keypad codes and scans to listeners', async () => {
      const h = await make();
      const codes: string[] = [];
      const scans: string[] = [];
      h.hardware.onKeypad((c) => codes.push(c));
      h.hardware.onScan((s) => scans.push(s));
      await h.typeCode('12345678');
      await h.scan('qr-data');
      expect(codes).toEqual(['12345678']);
      expect(scans).toEqual(['qr-data']);
    });

    it('reads telemetry the heartbeat schema accepts, where it offers telemetry', async () => {
      const h = await make();
      if (!h.hardware.telemetry) return;
      const reading = await h.hardware.telemetry();
      expect(TypeCompiler.Compile(Telemetry).Check(reading)).toBe(true);
    });

    it('reports each press of the "does not fit" key to listeners, where it has the key', async () => {
      const h = await make();
      if (!h.hardware.onDoesNotFit || !h.pressDoesNotFit) return;
      let presses = 0;
      const stop = h.hardware.onDoesNotFit(() => presses++);
      await h.pressDoesNotFit();
      await h.pressDoesNotFit();
      stop();
      await h.pressDoesNotFit();
      expect(presses).toBe(2);
    });
  });
}
