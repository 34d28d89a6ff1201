/**
 * The device's logger: pino, the same shape as the server's (`log.info({ ...data }, 'message')`). Codes typed
 * or scanned, grants, broker passwords, enrolment tokens and keys are redacted wherever they appear as a field,
 * at the top level or one level down, so a line that carries one by mistake does not leak it.
 */
import { pino } from 'pino';
const DEVICE_LOG_REDACT_PATHS = ['pin', 'qr', 'grant', 'grants', 'token', 'password', 'privateKey', 'secret'].flatMap((k) => [
    k,
    `*.${k}`,
]);
/** A device logger at `level` writing to `destination` (default: stdout). */
export function createDeviceLogger(level, destination) {
    const options = { level, base: { component: 'device' }, redact: { paths: [...DEVICE_LOG_REDACT_PATHS], censor: '[redacted]' } };
    return destination ? pino(options, destination) : pino(options);
}
/** A logger that writes nothing: the default of an agent given none. */
export function silentLogger() {
    return pino({ level: 'silent' });
}
//# sourceMappingURL=device-logger.js.map