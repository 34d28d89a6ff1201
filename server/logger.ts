import { pino, type Logger } from 'pino';

/** Where secrets could sit in a log object: censored wherever a caller put them by mistake. */
const REDACT = ['req.headers.authorization', 'password', '*.password', 'pin', '*.pin', 'token', '*.token', 'secret', '*.secret'];

export interface LoggerOptions {
  /**
   * Human-readable lines (pino-pretty, colours, local time) instead of JSON: for a terminal in development.
   * `server/main.ts` sets it when stdout is a TTY and NODE_ENV is not `production`.
   */
  pretty?: boolean;
  /** Where JSON lines go (default stdout); tests capture them here. */
  destination?: pino.DestinationStream;
}

/**
 * The server's logger: pino, JSON lines with ISO times (`"time":"2026-12-03T13:46:02.123Z"`), numeric levels as
 * pino writes them, secrets censored. Domain events are info lines (server/domain-log.ts); request lines are debug.
 */
export function createServerLogger(level: string, options: LoggerOptions = {}): Logger {
  const base = { level, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: '[redacted]' } };
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
