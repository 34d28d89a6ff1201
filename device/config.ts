import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompartmentSize } from '../shared/compartment-sizes.js';
import { CompartmentId, LockerId } from '../shared/ids.js';

export const DeviceSettingsSchema = Type.Object(
  {
    lockerId: LockerId,
    /** The server's API, for enrolment on first start. */
    apiUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** The single-use enrolment token an operator got from POST /v1/lockers (first start only). Never logged. */
    enrolmentToken: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })),
    /** Overrides the broker URL the server gave at enrolment. */
    mqttUrl: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
    /** Folder of the device's own database. */
    dataDir: Type.String({ minLength: 1 }),
    compartments: Type.Array(Type.Object({ id: CompartmentId, size: CompartmentSize }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 512,
    }),
  },
  { additionalProperties: false },
);
export type DeviceSettings = Readonly<Static<typeof DeviceSettingsSchema>>;

const check = TypeCompiler.Compile(DeviceSettingsSchema);

export class DeviceConfigError extends Error {
  readonly code = 'DEVICE_CONFIG_INVALID';
}

/** Parses "A1:S,A2:M" into compartments. */
export function parseCompartments(spec: string): { id: string; size: string }[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [id = '', size = ''] = s.split(':');
      return { id, size };
    });
}

/**
 * Device settings from the environment (LOCKER_ID, API_URL, ENROLMENT_TOKEN, MQTT_URL, DEVICE_DATA_DIR,
 * COMPARTMENTS) or from a file (the `enrolment` object returned by POST /v1/lockers, plus `apiUrl` and
 * `compartments`); the environment wins. Validated and frozen.
 */
export function deviceSettings(env: NodeJS.ProcessEnv, file: Record<string, unknown> = {}): DeviceSettings {
  const raw = {
    lockerId: env.LOCKER_ID ?? file.lockerId,
    apiUrl: env.API_URL ?? file.apiUrl,
    enrolmentToken: env.ENROLMENT_TOKEN ?? file.token,
    mqttUrl: env.MQTT_URL ?? file.mqttUrl,
    dataDir: env.DEVICE_DATA_DIR ?? file.dataDir ?? './device-data',
    compartments: env.COMPARTMENTS ? parseCompartments(env.COMPARTMENTS) : file.compartments,
  };
  for (const k of Object.keys(raw) as (keyof typeof raw)[]) if (raw[k] === undefined) delete raw[k];
  if (!check.Check(raw)) {
    const problems = [...check.Errors(raw)].map((e) => `${e.path || '/'}: ${e.message}`);
    throw new DeviceConfigError(`Invalid device settings:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  return Object.freeze(raw);
}
