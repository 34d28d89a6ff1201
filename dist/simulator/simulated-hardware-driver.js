/**
 * The simulated hardware as a device driver module: `npm run device` names this file in
 * LOCKSTEP_HARDWARE_MODULE, and device/main.ts loads it by that path (the device never imports the simulator).
 * The locker is driven from the terminal: a line typed is what a person at the locker does.
 */
import { createInterface } from 'node:readline';
import { SimulatedLocker } from './simulated-locker.js';
const CONSOLE_HELP = `The simulated locker, from the terminal:
  12345678        type a PIN on the keypad
  scan <qr>       scan a QR grant (or, while a batch code is in use, a parcel label: its id)
  open A1         pull door A1 (opens only when its latch was released)
  close A1        push door A1 shut
  force A1        force door A1 open
  misfit          press "does not fit" (the open deposit door's parcel goes to a larger compartment)
  quit            stop the agent`;
/** Runs one console line against the simulated locker; returns what to print (nothing for most actions). */
function consoleCommand(hardware, line) {
    const [cmd = '', arg = ''] = line.trim().split(/\s+/, 2);
    if (/^\d+$/.test(cmd))
        hardware.type(cmd);
    else if (cmd === 'scan')
        hardware.scan(arg);
    else if (cmd === 'open')
        return hardware.openDoor(arg) ? `door ${arg} open` : `door ${arg} is latched`;
    else if (cmd === 'close')
        hardware.closeDoor(arg);
    else if (cmd === 'force')
        hardware.forceOpen(arg);
    else if (cmd === 'misfit')
        hardware.pressDoesNotFit();
    else if (cmd)
        return CONSOLE_HELP;
    return undefined;
}
/** The factory device/load-hardware.ts looks for: a simulated locker with the configured compartments, on the terminal. */
export async function createHardware(config) {
    const hardware = new SimulatedLocker(config.compartments);
    const say = (line) => process.stdout.write(`${line}\n`);
    const display = hardware.display.bind(hardware);
    hardware.display = (line) => {
        display(line);
        say(`[display] ${line}`);
    };
    hardware.onDoor((id, state) => say(`[door] ${id} ${state}`));
    const input = createInterface({ input: process.stdin });
    const stopRequested = new Promise((resolve) => {
        input.on('line', (raw) => {
            const line = raw.trim();
            if (line === 'quit') {
                resolve();
                return;
            }
            try {
                const out = consoleCommand(hardware, line);
                if (out)
                    say(out);
            }
            catch (err) {
                say(`error: ${err instanceof Error ? err.message : String(err)}`);
            }
        });
        input.on('close', () => resolve());
    });
    say(`simulated locker ${config.lockerId}: type "help" for commands`);
    return {
        hardware,
        stopRequested,
        close: async () => input.close(),
    };
}
//# sourceMappingURL=simulated-hardware-driver.js.map