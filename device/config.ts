import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompartmentSize } from '../shared/compartment-sizes.js';
import { CompartmentId, LockerId } from '../shared/ids.js';
import { builtInHardwareNames, hardwareScheme } from './hardware-drivers.js';

const DeviceSettingsSchema = Type.Object(
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
    /** The hardware driver: a built-in one by name, or a module (path from the working folder) exporting `createHardware`. */
    hardware: Type.Union([
      Type.Object({ driver: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      Type.Object({ module: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    ]),
    /** Pino level of the agent's log (stderr, JSON lines). */
    // Firmware updates (issue 19; docs/firmware.md):
    /** The vendor's Ed25519 firmware key this locker trusts (base64url, 32 bytes); without it every update is refused. */
    firmwarePublicKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
    /** The version the controller runs before any update is installed through the server. */
    firmwareVersion: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$' })),
    logLevel: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ]),
    // ---- lock boards (issue 15) ----
    /** The lock boards' mapping file (JSON or YAML; see docs/hardware.md); the default wiring when absent. */
    hardwareMap: Type.Optional(Type.String({ minLength: 1 })),
    /** How often a polling driver reads the door sensors, ms (overrides the mapping file). */
    hardwarePollMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type DeviceSettings = Readonly<Static<typeof DeviceSettingsSchema>>;

const check = TypeCompiler.Compile(DeviceSettingsSchema);

export type DeviceConfigErrorCode =
  | 'DEVICE_CONFIG_INVALID'
  | 'DEVICE_HARDWARE_UNKNOWN'
  | 'DEVICE_HARDWARE_MODULE_INVALID'
  // lock boards (issue 15): a bad --hardware address, a bad mapping file
  | 'DEVICE_HARDWARE_ADDRESS_INVALID'
  | 'DEVICE_HARDWARE_MAP_INVALID';

/** Settings the device cannot start with: bad or missing values, an unknown hardware driver, a module without its factory. */
export class DeviceConfigError extends Error {
  constructor(
    message: string,
    readonly code: DeviceConfigErrorCode = 'DEVICE_CONFIG_INVALID',
  ) {
    super(message);
  }
}

/** The hardware the environment names: LOCKSTEP_HARDWARE (a built-in driver) or LOCKSTEP_HARDWARE_MODULE, not both. */
function hardwareChoice(env: NodeJS.ProcessEnv): { driver: string } | { module: string } {
  const driver = env.LOCKSTEP_HARDWARE?.trim();
  const module = env.LOCKSTEP_HARDWARE_MODULE?.trim();
  if (driver && module) throw new DeviceConfigError('set LOCKSTEP_HARDWARE or LOCKSTEP_HARDWARE_MODULE, not both');
  if (module) return { module };
  if (!driver) {
    throw new DeviceConfigError(
      'no hardware driver: set LOCKSTEP_HARDWARE to a built-in driver or LOCKSTEP_HARDWARE_MODULE to a module exporting createHardware ' +
        '(npm run device uses "simulated" unless --hardware or HARDWARE names another)',
    );
  }
  const known = builtInHardwareNames();
  if (!known.includes(hardwareScheme(driver))) {
    throw new DeviceConfigError(`unknown hardware driver "${driver}" (built in: ${known.length ? known.join(', ') : 'none yet'}; or set LOCKSTEP_HARDWARE_MODULE)`, 'DEVICE_HARDWARE_UNKNOWN');
  }
  return { driver };
}

/** Parses "A1:S,A2:M" into compartments. */
function parseCompartments(spec: string): { id: string; size: string }[] {
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
 * COMPARTMENTS, LOCKSTEP_HARDWARE or LOCKSTEP_HARDWARE_MODULE, LOG_LEVEL) or from a file (the `enrolment` object
 * returned by POST /v1/lockers, plus `apiUrl` and `compartments`); the environment wins. Validated and frozen.
 */
export function deviceSettings(env: NodeJS.ProcessEnv, file: Record<string, unknown> = {}): DeviceSettings {
  const raw = {
    lockerId: env.LOCKER_ID ?? file.lockerId,
    apiUrl: env.API_URL ?? file.apiUrl,
    enrolmentToken: env.ENROLMENT_TOKEN ?? file.token,
    mqttUrl: env.MQTT_URL ?? file.mqttUrl,
    dataDir: env.DEVICE_DATA_DIR ?? file.dataDir ?? './device-data',
    compartments: env.COMPARTMENTS ? parseCompartments(env.COMPARTMENTS) : file.compartments,
    hardware: hardwareChoice(env),
    logLevel: env.LOG_LEVEL ?? 'info',
    // lock boards (issue 15)
    hardwareMap: env.HARDWARE_MAP ?? file.hardwareMap,
    hardwarePollMs: env.HARDWARE_POLL_MS !== undefined ? Number(env.HARDWARE_POLL_MS) : file.hardwarePollMs,
    // Firmware updates (issue 19):
    firmwarePublicKey: env.FIRMWARE_PUBLIC_KEY ?? file.firmwarePublicKey,
    firmwareVersion: env.FIRMWARE_VERSION ?? file.firmwareVersion,
  };
  for (const k of Object.keys(raw) as (keyof typeof raw)[]) if (raw[k] === undefined) delete raw[k];
  if (!check.Check(raw)) {
    const problems = [...check.Errors(raw)].map((e) => `${e.path || '/'}: ${e.message}`);
    throw new DeviceConfigError(`Invalid device settings:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  return Object.freeze(raw);
}
