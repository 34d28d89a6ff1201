import { pino } from 'pino';
/** Where secrets could sit in a log object: censored wherever a caller put them by mistake. */
const REDACT = ['req.headers.authorization', 'password', '*.password', 'pin', '*.pin', 'token', '*.token', 'secret', '*.secret'];
/**
 * The server's logger: pino, JSON lines with ISO times (`"time":"2026-12-03T13:46:02.123Z"`), numeric levels as
 * pino writes them, secrets censored. Domain events are info lines (server/domain-log.ts); request lines are debug.
 */
export function createServerLogger(level, options = {}) {
    const base = { level, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: '[redacted]' } };
    if (options.pretty) {
        return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
    }
    return options.destination ? pino(base, options.destination) : pino(base);
}
//# sourceMappingURL=logger.js.map