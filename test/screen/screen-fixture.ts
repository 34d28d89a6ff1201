import http from 'node:http';
import { systemClock, type Clock } from '../../shared/clock.js';
import { startScreen, type RunningScreen } from '../../device/screen/start-screen.js';
import type { ScreenState } from '../../device/screen/screen-state.js';
import { startLockerFixture, type FixtureOptions, type LockerFixture } from '../helpers/locker-fixture.js';
import type { LockoutRules } from '../../device/keypad-lockout.js';

/** Real time, except that long timers (the screen's idle timeouts) wait for `fireLong()`: a test need not sleep a minute. */
export class IdleClock implements Clock {
  readonly #long = new Set<() => void>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): () => void {
    if (ms < 5000) return systemClock.setTimeout(fn, ms);
    this.#long.add(fn);
    return () => this.#long.delete(fn);
  }
  fireLong(): void {
    const due = [...this.#long];
    this.#long.clear();
    for (const fn of due) fn();
  }
}

export interface ScreenFixture extends LockerFixture {
  screen: RunningScreen;
  state(): ScreenState;
  closeAll(): Promise<void>;
}

/** A real server, one locker agent on simulated hardware, and its screen served on a free loopback port. */
export async function startScreenFixture(
  o: FixtureOptions & { keypadLockout?: Partial<LockoutRules>; lowCompartments?: string[]; screenClock?: Clock } = {},
): Promise<ScreenFixture> {
  const f = await startLockerFixture(o);
  const screen = await startScreen({
    agent: f.locker.agent,
    store: f.locker.store,
    clock: o.screenClock ?? o.clock ?? systemClock,
    compartments: f.locker.hardware.compartments(),
    port: 0,
    ...(o.lowCompartments ? { lowCompartments: o.lowCompartments } : {}),
    ...(o.keypadLockout ? { keypadLockout: o.keypadLockout } : {}),
  });
  return {
    ...f,
    screen,
    state: () => screen.controller.state(),
    async closeAll() {
      await screen.close();
      await f.close();
    },
  };
}

export interface Reply {
  status: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

/** One request with exactly the headers given (node:http: fetch would not let a test set Host). */
export function request(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: a page
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
