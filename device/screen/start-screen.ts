import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { CompartmentInfo } from '../hardware.js';
import type { LockoutRules } from '../keypad-lockout.js';
import type { DeviceStore } from '../store/device-store.js';
import { ScreenController, type ScreenAgent, type ScreenLanguage } from './screen-controller.js';
import { startScreenServer } from './screen-server.js';

export interface RunningScreen {
  controller: ScreenController;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartScreenOptions {
  agent: ScreenAgent;
  store: DeviceStore;
  clock: Clock;
  compartments: readonly CompartmentInfo[];
  port: number;
  language?: ScreenLanguage;
  idleTimeoutSec?: number;
  lowCompartments?: readonly string[];
  keypadLockout?: Partial<LockoutRules>;
  log?: Logger;
}

/** The locker's screen: its controller following `agent`, served on 127.0.0.1:`port` (0: any free port). */
export async function startScreen(o: StartScreenOptions): Promise<RunningScreen> {
  const controller = new ScreenController(o);
  controller.start();
  try {
    const server = await startScreenServer(controller, o.port);
    return {
      controller,
      url: server.url,
      port: server.port,
      async close() {
        await server.close();
        await controller.stop();
      },
    };
  } catch (err) {
    await controller.stop();
    throw err;
  }
}
