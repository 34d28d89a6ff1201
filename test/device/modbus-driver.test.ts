import { afterEach, describe, expect, it } from 'vitest';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ManualClock } from '../../shared/clock.js';
import { Telemetry } from '../../shared/messages.js';
import type { HardwareFault } from '../../device/hardware.js';
import { faultEvent } from '../../device/hardware-faults.js';
import { parseBusAddress } from '../../device/hardware/modbus-address.js';
import { resolveWiring } from '../../device/hardware/modbus-wiring.js';
import { SensorWatch } from '../../device/hardware/sensor-watch.js';
import { TEST_COMPARTMENTS, modbusRig, type ModbusRig } from '../helpers/modbus-harness.js';

const rigs: ModbusRig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.close()));
});
async function rig(...args: Parameters<typeof modbusRig>): Promise<ModbusRig> {
  const r = await modbusRig(...args);
  rigs.push(r);
  return r;
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('where the boards are (--hardware)', () => {
  it('reads TCP and RTU addresses, with the serial line settings', () => {
    expect(parseBusAddress('modbus-tcp://10.0.0.5:1502')).toEqual({ transport: 'tcp', host: '10.0.0.5', port: 1502 });
    expect(parseBusAddress('modbus-tcp://io.local')).toEqual({ transport: 'tcp', host: 'io.local', port: 502 });
    expect(parseBusAddress('modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even')).toEqual({ transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even', stopBits: 1, dataBits: 8 });
  });

  it('refuses what it cannot use with DEVICE_HARDWARE_ADDRESS_INVALID', () => {
    for (const bad of ['modbus-tcp://', 'modbus-rtu://dev/ttyUSB0', 'modbus-rtu:///dev/ttyUSB0?baud=1234', 'modbus-rtu:///dev/ttyUSB0?speed=9600', 'modbus-udp://x:1', 'nonsense']) {
      expect(codeOf(() => parseBusAddress(bad)), bad).toBe('DEVICE_HARDWARE_ADDRESS_INVALID');
    }
  });
});

describe('the wiring', () => {
  it('by default: unit 1, compartment i on coil i and input i, in registration order', () => {
    const w = resolveWiring(TEST_COMPARTMENTS);
    expect(w.compartments.map((c) => [c.id, c.unit, c.coil, c.input, c.inverted, c.pulseMs])).toEqual([
      ['A1', 1, 0, 0, false, 300],
      ['A2', 1, 1, 1, false, 300],
      ['B1', 1, 2, 2, false, 300],
    ]);
  });

  it('a mapping file overrides per compartment; what it leaves out keeps the default', () => {
    const w = resolveWiring(TEST_COMPARTMENTS, { pulseMs: 500, compartments: { B1: { unit: 2, coil: 7, inverted: true }, A2: { pulseMs: 800 } } });
    expect(w.compartments.find((c) => c.id === 'B1')).toEqual({ id: 'B1', unit: 2, coil: 7, input: 2, inverted: true, pulseMs: 500 });
    expect(w.compartments.find((c) => c.id === 'A2')?.pulseMs).toBe(800);
  });

  it('refuses, with DEVICE_HARDWARE_MAP_INVALID, unknown members, compartments the locker lacks, and two compartments on one coil or input', () => {
    expect(codeOf(() => resolveWiring(TEST_COMPARTMENTS, { compartments: { A1: { coils: 3 } } }))).toBe('DEVICE_HARDWARE_MAP_INVALID');
    expect(codeOf(() => resolveWiring(TEST_COMPARTMENTS, { compartments: { Z9: { coil: 3 } } }))).toBe('DEVICE_HARDWARE_MAP_INVALID');
    expect(codeOf(() => resolveWiring(TEST_COMPARTMENTS, { compartments: { A1: { input: 1 } } }))).toBe('DEVICE_HARDWARE_MAP_INVALID');
    expect(codeOf(() => resolveWiring(TEST_COMPARTMENTS, { compartments: { A1: { unit: 300 } } }))).toBe('DEVICE_HARDWARE_MAP_INVALID');
    expect(codeOf(() => resolveWiring(TEST_COMPARTMENTS, 'just text'))).toBe('DEVICE_HARDWARE_MAP_INVALID');
  });
});

describe('the driver on emulated boards', () => {
  it('reads an inverted sensor the other way round, and debounces a sensor that flickers', async () => {
    const r = await rig('tcp', { map: { debounceReads: 3, compartments: { A2: { inverted: true } } } });
    // A2's input reads 1 by default: with an inverted sensor, that is an open door.
    expect(await r.hardware.readDoor('A2')).toBe('open');
    expect(await r.hardware.readDoor('A1')).toBe('closed');
    const seen: string[] = [];
    r.hardware.onDoor((id, s) => seen.push(`${id}:${s}`));
    // One read of 0 then back to 1: no change counts.
    r.emulator.setInput(1, 0, false);
    await r.hardware.pollOnce();
    r.emulator.setInput(1, 0, true);
    for (let i = 0; i < 4; i++) await r.hardware.pollOnce();
    expect(seen).toEqual([]);
    r.emulator.setInput(1, 0, false);
    for (let i = 0; i < 3; i++) await r.hardware.pollOnce();
    expect(seen).toEqual(['A1:open']);
  });

  it('a board that does not answer is retried, counted, reported down once and up again, and telemetry says so', async () => {
    const r = await rig('tcp', { units: [1, 2], map: { compartments: { B1: { unit: 2, coil: 0, input: 0 } } } });
    const faults: HardwareFault[] = [];
    r.hardware.onFault((f) => faults.push(f));
    r.emulator.silence(2);
    await r.hardware.pollOnce();
    await r.hardware.pollOnce();
    expect(faults).toEqual([{ kind: 'board_down', board: 'unit 2', reason: 'NO_ANSWER' }]);
    expect(r.hardware.canPulse('B1')).toBe(false);
    await expect(r.hardware.pulseLock('B1')).rejects.toMatchObject({ unit: 2, reason: 'NO_ANSWER' });
    const t = await r.hardware.telemetry();
    expect(TypeCompiler.Compile(Telemetry).Check(t)).toBe(true);
    expect(t.bus).toMatchObject({ boardsSeen: 1, boards: 2 });
    expect(t.bus!.errorsPerMinute).toBeGreaterThanOrEqual(4);
    r.emulator.silence(2, false);
    await r.hardware.pollOnce();
    expect(faults.at(-1)).toEqual({ kind: 'board_up', board: 'unit 2' });
    expect(r.hardware.canPulse('B1')).toBe(true);
  });

  it('a coil that does not take is written again, then the pulse fails with COIL_NOT_TAKEN', async () => {
    const r = await rig('rtu');
    r.emulator.stick(1, 1);
    await expect(r.hardware.pulseLock('A2')).rejects.toMatchObject({ unit: 1, reason: 'COIL_NOT_TAKEN' });
    expect(r.emulator.writes).toEqual(['1/1=1', '1/1=1']);
    r.emulator.stick(1, 1, false);
    await r.hardware.pulseLock('A2');
    expect(r.emulator.pulsesOf(1, 1)).toBe(1);
    expect(r.emulator.coil(1, 1)).toBe(false);
  });
});

describe('a board silent at start', () => {
  it('reads closed until it answers; a door it then reports open is a change the agent hears', async () => {
    const r = await rig('tcp', {
      units: [1, 2],
      map: { compartments: { B1: { unit: 2, coil: 0, input: 0 } } },
      prepare: (e) => {
        e.silence(2);
        e.setInput(2, 0, false);
      },
    });
    expect(await r.hardware.readDoor('B1')).toBe('closed');
    expect(r.hardware.canPulse('B1')).toBe(false);
    // Down before anyone listened: a listener hears of it when it starts listening.
    const faults: HardwareFault[] = [];
    r.hardware.onFault((f) => faults.push(f));
    expect(faults).toEqual([{ kind: 'board_down', board: 'unit 2', reason: 'NO_ANSWER' }]);
    const seen: string[] = [];
    r.hardware.onDoor((id, s) => seen.push(`${id}:${s}`));
    r.emulator.silence(2, false);
    await expect.poll(() => seen).toEqual(['B1:open']);
    expect(await r.hardware.readDoor('B1')).toBe('open');
    expect(faults.at(-1)).toEqual({ kind: 'board_up', board: 'unit 2' });
  });
});

describe('a suspect door sensor', () => {
  it('is reported once after the set number of pulses with no change, and forgiven when the sensor changes', () => {
    const clock = new ManualClock();
    const suspect: string[] = [];
    const watch = new SensorWatch(clock, 2, 30_000, (id) => suspect.push(id));
    watch.pulsed('A1');
    clock.advance(30_000);
    expect(suspect).toEqual([]);
    watch.pulsed('A1');
    clock.advance(29_999);
    expect(suspect).toEqual([]);
    clock.advance(1);
    expect(suspect).toEqual(['A1']);
    watch.pulsed('A1');
    clock.advance(30_000);
    expect(suspect).toEqual(['A1']);
    watch.changed('A1');
    expect(watch.isSuspect('A1')).toBe(false);
    watch.pulsed('A1');
    watch.changed('A1');
    watch.pulsed('A1');
    clock.advance(60_000);
    expect(suspect).toEqual(['A1']);
  });

  it('on the boards: a lock pulsed twice whose sensor never changes raises sensor_suspect for that compartment', async () => {
    const r = await rig('tcp', { map: { sensorSuspectPulses: 2, sensorSuspectMs: 200 } });
    const faults: HardwareFault[] = [];
    r.hardware.onFault((f) => faults.push(f));
    await r.hardware.pulseLock('A1');
    await r.hardware.pulseLock('A1');
    await expect.poll(() => faults).toEqual([{ kind: 'sensor_suspect', compartmentId: 'A1' }]);
  });
});

describe('what the agent records for a hardware fault', () => {
  it('a board down or up names the board (the server keys its alarm on it); a suspect sensor names its compartment', () => {
    expect(faultEvent({ kind: 'board_down', board: 'unit 2', reason: 'CRC_ERROR' })).toEqual({ type: 'hardware.fault', board: 'unit 2', reason: 'CRC_ERROR' });
    expect(faultEvent({ kind: 'board_up', board: 'unit 2' })).toEqual({ type: 'hardware.recovered', board: 'unit 2' });
    expect(faultEvent({ kind: 'sensor_suspect', compartmentId: 'A1' })).toEqual({ type: 'door.sensor_suspect', compartmentId: 'A1', reason: 'NO_CHANGE_AFTER_PULSE' });
  });
});
