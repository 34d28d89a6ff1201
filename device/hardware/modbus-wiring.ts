/**
 * Which coil and input drive each compartment. The default wiring needs no file: unit id 1, the compartments in
 * the order they were registered numbered 0, 1, 2, …, compartment i's lock on coil i and its door sensor on
 * discrete input i (1 = closed). A mapping file (`--hardware-map FILE`, JSON or YAML) overrides any part, per
 * compartment, and may spread the compartments over several boards (unit ids) on one bus. See docs/hardware.md.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parse as parseYaml } from 'yaml';
import { HardwareConfigError } from './hardware-config-error.js';
import type { CompartmentInfo } from '../hardware.js';

const Unit = Type.Integer({ minimum: 1, maximum: 247 });
const Address = Type.Integer({ minimum: 0, maximum: 65535 });
const PulseMs = Type.Integer({ minimum: 20, maximum: 10_000 });

const CompartmentWiringSchema = Type.Object(
  {
    unit: Type.Optional(Unit),
    coil: Type.Optional(Address),
    input: Type.Optional(Address),
    /** The sensor reads 0 when the door is closed (normally-closed contacts wired the other way). */
    inverted: Type.Optional(Type.Boolean()),
    pulseMs: Type.Optional(PulseMs),
  },
  { additionalProperties: false },
);

export const HardwareMapSchema = Type.Object(
  {
    /** Unit id of compartments the file does not place elsewhere (1). */
    unit: Type.Optional(Unit),
    /** How long a coil stays ON for one pulse (300 ms). */
    pulseMs: Type.Optional(PulseMs),
    /** How often the door sensors are read (100 ms). */
    pollMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
    /** Equal reads in a row before a sensor change counts (2). */
    debounceReads: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    /** How long the bus waits for a board's answer (300 ms). */
    timeoutMs: Type.Optional(Type.Integer({ minimum: 20, maximum: 10_000 })),
    /** Tries of one bus request before it fails (3). */
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    /** A lock pulsed this many times in a row with no change of its door sensor makes the sensor suspect (2) … */
    sensorSuspectPulses: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    /** … once this long has passed after the last of those pulses (30 000 ms). */
    sensorSuspectMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    compartments: Type.Optional(Type.Record(Type.String(), CompartmentWiringSchema)),
  },
  { additionalProperties: false },
);
export type HardwareMap = Static<typeof HardwareMapSchema>;

/** One compartment's wiring, every part decided. */
export interface CompartmentWiring {
  id: string;
  unit: number;
  coil: number;
  input: number;
  inverted: boolean;
  pulseMs: number;
}

/** The whole wiring and the bus timings the driver runs with. */
export interface Wiring {
  compartments: readonly CompartmentWiring[];
  pollMs: number;
  debounceReads: number;
  timeoutMs: number;
  attempts: number;
  sensorSuspectPulses: number;
  sensorSuspectMs: number;
}

export const WIRING_DEFAULTS = {
  unit: 1,
  pulseMs: 300,
  pollMs: 100,
  debounceReads: 2,
  timeoutMs: 300,
  attempts: 3,
  sensorSuspectPulses: 2,
  sensorSuspectMs: 30_000,
} as const;

const check = TypeCompiler.Compile(HardwareMapSchema);

function invalid(source: string, problems: string[]): HardwareConfigError {
  return new HardwareConfigError(`invalid hardware map ${source}:\n  ${problems.slice(0, 10).join('\n  ')}`, 'DEVICE_HARDWARE_MAP_INVALID');
}

/** Reads a mapping file (`.json`, or YAML for anything else; JSON is YAML too). Unreadable or unparsable: DEVICE_HARDWARE_MAP_INVALID. */
export function readHardwareMap(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HardwareConfigError(`cannot read the hardware map ${file}: ${err instanceof Error ? err.message : String(err)}`, 'DEVICE_HARDWARE_MAP_INVALID');
  }
  try {
    return file.endsWith('.json') ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    throw invalid(file, [`not ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`]);
  }
}

/**
 * The wiring of `compartments` (in registration order) under `map` (already parsed; absent: the default wiring).
 * A map that does not match the schema, names a compartment the locker does not have, or puts two compartments
 * on one coil or one input of a board is DEVICE_HARDWARE_MAP_INVALID.
 */
export function resolveWiring(compartments: readonly CompartmentInfo[], map: unknown = {}, source = '(default)', overrides: { pollMs?: number } = {}): Wiring {
  const raw = map ?? {};
  if (!check.Check(raw)) throw invalid(source, [...check.Errors(raw)].map((e) => `${e.path || '/'}: ${e.message}`));
  const m: HardwareMap = raw;
  const known = new Set(compartments.map((c) => c.id));
  const unknown = Object.keys(m.compartments ?? {}).filter((id) => !known.has(id));
  if (unknown.length) throw invalid(source, unknown.map((id) => `/compartments/${id}: this locker has no compartment ${id}`));
  const wired = compartments.map((c, i): CompartmentWiring => {
    const own = m.compartments?.[c.id] ?? {};
    return {
      id: c.id,
      unit: own.unit ?? m.unit ?? WIRING_DEFAULTS.unit,
      coil: own.coil ?? i,
      input: own.input ?? i,
      inverted: own.inverted ?? false,
      pulseMs: own.pulseMs ?? m.pulseMs ?? WIRING_DEFAULTS.pulseMs,
    };
  });
  const problems: string[] = [];
  for (const part of ['coil', 'input'] as const) {
    const seen = new Map<string, string>();
    for (const w of wired) {
      const key = `${w.unit}/${w[part]}`;
      const other = seen.get(key);
      if (other) problems.push(`/compartments/${w.id}: ${part} ${w[part]} of unit ${w.unit} is ${other}'s already`);
      else seen.set(key, w.id);
    }
  }
  if (problems.length) throw invalid(source, problems);
  return {
    compartments: wired,
    pollMs: overrides.pollMs ?? m.pollMs ?? WIRING_DEFAULTS.pollMs,
    debounceReads: m.debounceReads ?? WIRING_DEFAULTS.debounceReads,
    timeoutMs: m.timeoutMs ?? WIRING_DEFAULTS.timeoutMs,
    attempts: m.attempts ?? WIRING_DEFAULTS.attempts,
    sensorSuspectPulses: m.sensorSuspectPulses ?? WIRING_DEFAULTS.sensorSuspectPulses,
    sensorSuspectMs: m.sensorSuspectMs ?? WIRING_DEFAULTS.sensorSuspectMs,
  };
}

/** The boards (unit ids) the wiring uses, ascending. */
export function unitsOf(wiring: Wiring): number[] {
  return [...new Set(wiring.compartments.map((c) => c.unit))].sort((a, b) => a - b);
}
