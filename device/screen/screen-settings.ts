/**
 * The screen's settings, read once at start from the command line and the environment (docs/screen.md):
 * SCREEN_PORT (or --screen-port; no port, no screen), SCREEN_LANGUAGE (the locker's default language, `en`),
 * SCREEN_IDLE_SECONDS (back to the start after this long without input, 60), SCREEN_LOW_COMPARTMENTS (ids of the
 * compartments drawn as low, comma-separated) and REOPEN_WINDOW_SECONDS (reopen once, 60; 0 turns it off).
 */
import { DeviceConfigError } from '../config.js';
import { DEFAULT_REOPEN_WINDOW_SEC } from '../reopen-rules.js';
import { DEFAULT_IDLE_TIMEOUT_SEC, SCREEN_LANGUAGES, type ScreenLanguage } from './screen-controller.js';

export interface ScreenSettings {
  /** Null: the agent serves no screen. */
  port: number | null;
  language: ScreenLanguage;
  idleTimeoutSec: number;
  lowCompartments: readonly string[];
  reopenWindowSec: number;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new DeviceConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

export function screenSettings(env: NodeJS.ProcessEnv, portFlag?: string): Readonly<ScreenSettings> {
  const rawPort = portFlag ?? env.SCREEN_PORT;
  const language = (env.SCREEN_LANGUAGE ?? 'en').trim();
  if (!(SCREEN_LANGUAGES as readonly string[]).includes(language)) {
    throw new DeviceConfigError(`SCREEN_LANGUAGE must be one of ${SCREEN_LANGUAGES.join(', ')} (got "${language}")`);
  }
  return Object.freeze({
    port: rawPort === undefined || rawPort.trim() === '' ? null : integer('SCREEN_PORT', rawPort, 0, 1, 65_535),
    language: language as ScreenLanguage,
    idleTimeoutSec: integer('SCREEN_IDLE_SECONDS', env.SCREEN_IDLE_SECONDS, DEFAULT_IDLE_TIMEOUT_SEC, 10, 3600),
    lowCompartments: Object.freeze((env.SCREEN_LOW_COMPARTMENTS ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
    reopenWindowSec: integer('REOPEN_WINDOW_SECONDS', env.REOPEN_WINDOW_SECONDS, DEFAULT_REOPEN_WINDOW_SEC, 0, 3600),
  });
}
