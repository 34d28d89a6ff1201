import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompartmentSize } from '../shared/compartment-sizes.js';
import { parse as parseYaml, YAMLParseError } from 'yaml';

const Share = Type.Number({ minimum: 0, maximum: 1 });
const Hour = Type.Number({ minimum: 0, maximum: 167 });

/** A simulation scenario (JSON or YAML): fleet, traffic over virtual hours, faults, seed. See docs/simulator.md. */
const ScenarioSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
    fleet: Type.Object(
      {
        lockers: Type.Integer({ minimum: 1, maximum: 20_000 }),
        /** Compartments of every locker, by size (default: 3 S, 2 M, 1 L, 1 XL). */
        compartments: Type.Optional(
          Type.Array(Type.Object({ size: CompartmentSize, count: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }), {
            minItems: 1,
            maxItems: 4,
          }),
        ),
        /** Child processes that host the lockers (0 = all in the simulator's process); default: one per 1,000 lockers above 500. */
        workers: Type.Optional(Type.Integer({ minimum: 0, maximum: 32 })),
      },
      { additionalProperties: false },
    ),
    traffic: Type.Object(
      {
        /** Parcels booked over the whole profile, per locker (the total is rounded). */
        parcelsPerLocker: Type.Number({ minimum: 0, maximum: 1000 }),
        /** Real milliseconds one virtual hour lasts (0: every parcel starts at once). */
        hourMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
        /** Relative booking rate in each virtual hour, from the first hour of the run (one to 168 hours). */
        hourly: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, maxItems: 168 }),
        /** Share of parcels of each size (default: S 50 %, M 33 %, L 17 %). */
        sizes: Type.Optional(Type.Partial(Type.Object({ S: Type.Number({ minimum: 0 }), M: Type.Number({ minimum: 0 }), L: Type.Number({ minimum: 0 }), XL: Type.Number({ minimum: 0 }) }, { additionalProperties: false }))),
        qrShare: Type.Optional(Share),
        noShow: Type.Optional(Share),
        /** Virtual hours between the deposit and the recipient's visit (uniform between min and max). */
        pickupAfterHours: Type.Optional(Type.Object({ min: Type.Number({ minimum: 0, maximum: 48 }), max: Type.Number({ minimum: 0, maximum: 48 }) }, { additionalProperties: false })),
      },
      { additionalProperties: false },
    ),
    faults: Type.Optional(
      Type.Object(
        {
          /** Share of lockers whose network is cut once, at a random time in the profile, for `durationMs` (real). */
          outages: Type.Optional(Type.Object({ share: Share, durationMs: Type.Integer({ minimum: 100, maximum: 600_000 }) }, { additionalProperties: false })),
          /** The whole fleet loses its network at once and gets it back at once. */
          storm: Type.Optional(Type.Object({ atHour: Hour, downMs: Type.Integer({ minimum: 100, maximum: 600_000 }) }, { additionalProperties: false })),
          /** Share of deposits where the latch is jammed: the courier gives up and the parcel stays booked. */
          jams: Type.Optional(Type.Object({ share: Share }, { additionalProperties: false })),
          /** Empty compartments forced open (vandalism) and pushed shut again, spread over the profile. */
          forcedOpens: Type.Optional(Type.Object({ count: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false })),
          /** Share of visits where the person leaves the door open for `holdMs` (real) before closing it. */
          doorsLeftOpen: Type.Optional(Type.Object({ share: Share, holdMs: Type.Integer({ minimum: 0, maximum: 600_000 }) }, { additionalProperties: false })),
          /** Lockers whose power is cut (agent stopped) and restored on the same store, spread over the profile. */
          powerCuts: Type.Optional(Type.Object({ count: Type.Integer({ minimum: 0, maximum: 100_000 }), downMs: Type.Integer({ minimum: 0, maximum: 600_000 }) }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
    // Firmware rollouts (issue 19; docs/firmware.md):
    /** After the traffic, roll `version` over the fleet; `failShare` of the lockers cannot run it (it does not come up there). */
    firmwareRollout: Type.Optional(
      Type.Object(
        {
          version: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$' }),
          waves: Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 20 }),
          failShare: Share,
          healthGate: Type.Optional(
            Type.Object(
              { deadlineSec: Type.Optional(Type.Integer({ minimum: 10 })), maxFailedPct: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })), maxAlarmIncrease: Type.Optional(Type.Integer({ minimum: 0 })) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;

const check = TypeCompiler.Compile(ScenarioSchema);

/** A scenario file that cannot be used: `path` names the bad field (JSON pointer), or is '' for the whole file. */
export class ScenarioError extends Error {
  readonly code = 'SIM_BAD_SCENARIO';
  constructor(
    readonly file: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${file}${path ? ` at ${path}` : ''}: ${detail}`);
  }
}

/** Validates a parsed scenario; throws ScenarioError naming the first bad field. */
export function validateScenario(value: unknown, file = 'scenario'): Scenario {
  const first = check.Errors(value).First();
  if (first) throw new ScenarioError(file, first.path || '/', first.message);
  const s = value as Scenario;
  if (!s.traffic.hourly.some((w) => w > 0)) throw new ScenarioError(file, '/traffic/hourly', 'at least one hour must have a rate above 0');
  const p = s.traffic.pickupAfterHours;
  if (p && p.max < p.min) throw new ScenarioError(file, '/traffic/pickupAfterHours/max', 'must not be below min');
  const sizes = s.traffic.sizes;
  if (sizes && !Object.values(sizes).some((w) => (w ?? 0) > 0)) throw new ScenarioError(file, '/traffic/sizes', 'at least one size must have a share above 0');
  const storm = s.faults?.storm;
  if (storm && storm.atHour >= s.traffic.hourly.length) throw new ScenarioError(file, '/faults/storm/atHour', `must fall inside the ${s.traffic.hourly.length} hours of the profile`);
  return s;
}

/** Why a YAML text did not parse, with the line and column (the first line of the `yaml` package's message). */
function yamlProblem(err: unknown): string {
  if (!(err instanceof YAMLParseError)) return err instanceof Error ? err.message : String(err);
  const at = err.linePos?.[0];
  const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `${at ? `line ${at.line}, column ${at.col}: ` : ''}${reason} (${err.code})`;
}

/** Reads and validates a scenario file (.json, or .yaml/.yml: YAML 1.2, one document). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(file, '', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  let parsed: unknown;
  try {
    parsed = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(file, '', `not valid ${yaml ? 'YAML' : 'JSON'}: ${yaml ? yamlProblem(err) : err instanceof Error ? err.message : String(err)}`);
  }
  return validateScenario(parsed, file);
}
