/**
 * One locker with its screen, to try the flows by hand (docs/screen.md, "Trying it"):
 *
 *   npm run screen:sim -- [--port 8090] [--language en|pl|de|zh] [--open]
 *
 * Runs a server in this process (a temporary data folder), one locker agent on simulated hardware and its screen
 * on http://127.0.0.1:PORT/ (`--open` starts Chromium on it as an app window). The terminal plays the doors and
 * the courier's system: the simulated hardware's commands (`open A1`, `close A1`, `misfit`, a PIN, `scan …`)
 * work beside the screen, and `book`, `batch`, `pickup`, `offline`, `online` make codes and cut the network.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createServer, makeConfig } from '../server/index.js';
import { systemClock } from '../shared/clock.js';
import type { BookingView } from '../shared/api/parcels.js';
import { SCREEN_LANGUAGES, type ScreenLanguage } from '../device/screen/screen-controller.js';
import { startScreen } from '../device/screen/start-screen.js';
import { ApiClient } from '../client/http-client.js';
import { startSimLocker } from './fleet.js';
import { awaitPickupCode } from './people.js';
import { seededRandom } from './random.js';
import { CONSOLE_HELP, consoleCommand } from './simulated-hardware-driver.js';

const HELP = `${CONSOLE_HELP}
  book [S|M|L] [accessible]   book a parcel here: prints its drop-off PIN (type it on the screen)
  batch N         book N small parcels and open a courier's batch code: prints it
  pickup <id>     the pickup PIN of a deposited parcel (as the recipient's message would bring it)
  offline         cut the locker's network (the screen shows the offline mark; flows still work)
  online          restore it`;

/** The compartments registered with the server (`low` ones too, for accessible bookings) and drawn on the screen. */
const COMPARTMENTS = [
  { id: 'A1', size: 'S' as const },
  { id: 'A2', size: 'S' as const },
  { id: 'A3', size: 'S' as const },
  { id: 'A4', size: 'S' as const, low: true },
  { id: 'B1', size: 'M' as const },
  { id: 'B2', size: 'M' as const, low: true },
  { id: 'C1', size: 'L' as const },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8090' }, language: { type: 'string', default: 'en' }, open: { type: 'boolean' } } });
  const language = values.language as ScreenLanguage;
  if (!SCREEN_LANGUAGES.includes(language)) throw new Error(`--language must be one of ${SCREEN_LANGUAGES.join(', ')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-screen-sim-'));
  const server = await createServer(makeConfig({ port: 0, mqttPort: 0, dataDir: dir, logLevel: 'silent' }));
  const { httpUrl } = await server.start();
  const api = new ApiClient(httpUrl, server.adminToken);
  const locker = await startSimLocker({ api, name: 'Screen demo', location: { lat: 52.23, lon: 21.01 }, compartments: COMPARTMENTS, dataDir: dir, clock: systemClock, random: seededRandom(1), reopenWindowSec: 60 });
  const screen = await startScreen({
    agent: locker.agent,
    store: locker.store,
    clock: systemClock,
    compartments: locker.hardware.compartments(),
    port: Number(values.port),
    language,
    lowCompartments: COMPARTMENTS.filter((c) => 'low' in c).map((c) => c.id),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  locker.hardware.onDoor((id, state) => say(`[door] ${id} ${state}`));
  say(`screen: ${screen.url}   (server ${httpUrl}, admin token ${server.adminToken.slice(0, 6)}…; type "help")`);
  const browser = values.open ? spawn('chromium', ['--app=' + screen.url, '--window-size=540,960', `--user-data-dir=${path.join(dir, 'chromium')}`], { stdio: 'ignore' }) : undefined;

  const book = async (size: string, accessible: boolean, reference: string) =>
    api.post<BookingView>('/v1/parcels', { lockerId: locker.id, size, recipient: { email: 'you@example.org' }, reference, ...(accessible ? { accessible } : {}) });
  let n = 0;
  const command = async (line: string): Promise<string | undefined> => {
    const [cmd = '', arg = '', extra = ''] = line.trim().split(/\s+/);
    switch (cmd) {
      case 'help':
        return HELP;
      case 'book': {
        const p = await book(arg || 'S', extra === 'accessible' || arg === 'accessible', `SIM-${++n}`);
        return `parcel ${p.id} → compartment ${p.compartmentId}${p.lowCompartment === undefined ? '' : p.lowCompartment ? ' (low)' : ' (no low one free)'}; drop-off PIN ${p.dropoff.pin}`;
      }
      case 'batch': {
        const parcels = [];
        for (let i = 0; i < Math.min(Math.max(Number(arg) || 3, 1), 20); i++) parcels.push(await book('S', false, `SIM-${++n}`));
        const s = await api.post<{ code: { pin: string } }>(`/v1/lockers/${locker.id}/deposit-sessions`, { parcelIds: parcels.map((p) => p.id) });
        return `batch of ${parcels.length} (${parcels.map((p) => `${p.id.slice(0, 8)}…→${p.compartmentId}`).join(', ')}); courier PIN ${s.code.pin}`;
      }
      case 'pickup': {
        const code = await awaitPickupCode(api, arg, 5000);
        return code ? `pickup PIN ${code.pin}` : 'no pickup code yet: is the parcel in (door closed) and the locker online?';
      }
      case 'offline':
        locker.proxy.cut();
        return 'network cut';
      case 'online':
        locker.proxy.restore();
        return 'network back';
      default:
        return consoleCommand(locker.hardware, line);
    }
  };

  const input = createInterface({ input: process.stdin });
  // One line at a time, in order, as a person types them; quitting waits for the line before it.
  let turn: Promise<unknown> = Promise.resolve();
  await new Promise<void>((resolve) => {
    input.on('line', (raw) => {
      if (raw.trim() === 'quit') return void turn.then(() => resolve());
      turn = turn
        .then(() => command(raw))
        .then((out) => out && say(out))
        .catch((err: unknown) => say(`error: ${err instanceof Error ? err.message : String(err)}`));
    });
    input.on('close', () => void turn.then(() => resolve()));
    process.on('SIGINT', () => resolve());
  });
  input.close();
  browser?.kill();
  await screen.close();
  await locker.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
