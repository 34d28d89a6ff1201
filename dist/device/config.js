import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompartmentSize } from '../shared/compartment-sizes.js';
import { CompartmentId, LockerId } from '../shared/ids.js';
import { builtInHardwareNames } from './hardware-drivers.js';
const DeviceSettingsSchema = Type.Object({
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
    logLevel: Type.Union([
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
    ]),
}, { additionalProperties: false });
const check = TypeCompiler.Compile(DeviceSettingsSchema);
/** Settings the device cannot start with: bad or missing values, an unknown hardware driver, a module without its factory. */
export class DeviceConfigError extends Error {
    code;
    constructor(message, code = 'DEVICE_CONFIG_INVALID') {
        super(message);
        this.code = code;
    }
}
/** The hardware the environment names: LOCKSTEP_HARDWARE (a built-in driver) or LOCKSTEP_HARDWARE_MODULE, not both. */
function hardwareChoice(env) {
    const driver = env.LOCKSTEP_HARDWARE?.trim();
    const module = env.LOCKSTEP_HARDWARE_MODULE?.trim();
    if (driver && module)
        throw new DeviceConfigError('set LOCKSTEP_HARDWARE or LOCKSTEP_HARDWARE_MODULE, not both');
    if (module)
        return { module };
    if (!driver) {
        throw new DeviceConfigError('no hardware driver: set LOCKSTEP_HARDWARE to a built-in driver or LOCKSTEP_HARDWARE_MODULE to a module exporting createHardware ' +
            '(npm run device uses ./simulator/simulated-hardware-driver.ts)');
    }
    const known = builtInHardwareNames();
    if (!known.includes(driver)) {
        throw new DeviceConfigError(`unknown hardware driver "${driver}" (built in: ${known.length ? known.join(', ') : 'none yet'}; or set LOCKSTEP_HARDWARE_MODULE)`, 'DEVICE_HARDWARE_UNKNOWN');
    }
    return { driver };
}
/** Parses "A1:S,A2:M" into compartments. */
function parseCompartments(spec) {
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
export function deviceSettings(env, file = {}) {
    const raw = {
        lockerId: env.LOCKER_ID ?? file.lockerId,
        apiUrl: env.API_URL ?? file.apiUrl,
        enrolmentToken: env.ENROLMENT_TOKEN ?? file.token,
        mqttUrl: env.MQTT_URL ?? file.mqttUrl,
        dataDir: env.DEVICE_DATA_DIR ?? file.dataDir ?? './device-data',
        compartments: env.COMPARTMENTS ? parseCompartments(env.COMPARTMENTS) : file.compartments,
        hardware: hardwareChoice(env),
        logLevel: env.LOG_LEVEL ?? 'info',
    };
    for (const k of Object.keys(raw))
        if (raw[k] === undefined)
            delete raw[k];
    if (!check.Check(raw)) {
        const problems = [...check.Errors(raw)].map((e) => `${e.path || '/'}: ${e.message}`);
        throw new DeviceConfigError(`Invalid device settings:\n  ${problems.slice(0, 10).join('\n  ')}`);
    }
    return Object.freeze(raw);
}
//# sourceMappingURL=config.js.map