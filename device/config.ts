import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompartmentSize } from '../shared/compartment-sizes.js';
import { CompartmentId, LockerId } from '../shared/ids.js';

export const DeviceSettingsSchema = Type.Object(
  {
    lockerId: LockerId,
    mqttUrl: Type.String({ pattern: '^mqtts?://' }),
    /** The locker's broker secret from registration. Never logged. */
    password: Type.String({ minLength: 16 }),
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
 * Device settings from the environment (LOCKER_ID, MQTT_URL, MQTT_PASSWORD, DEVICE_DATA_DIR, COMPARTMENTS) or
 * from a credentials file (the `device` object returned by POST /v1/lockers, plus `compartments`); the
 * environment wins. Validated and frozen.
 */
export function deviceSettings(env: NodeJS.ProcessEnv, file: Record<string, unknown> = {}): DeviceSettings {
  const raw = {
    lockerId: env.LOCKER_ID ?? file.lockerId,
    mqttUrl: env.MQTT_URL ?? file.mqttUrl,
    password: env.MQTT_PASSWORD ?? file.password,
    dataDir: env.DEVICE_DATA_DIR ?? file.dataDir ?? './device-data',
    compartments: env.COMPARTMENTS ? parseCompartments(env.COMPARTMENTS) : file.compartments,
  };
  if (!check.Check(raw)) {
    const problems = [...check.Errors(raw)].map((e) => `${e.path || '/'}: ${e.message}`);
    throw new DeviceConfigError(`Invalid device settings:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  return Object.freeze(raw);
}
