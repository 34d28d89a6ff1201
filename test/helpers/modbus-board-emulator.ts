/**
 * Lock boards for tests: Modbus units holding coils (locks) and discrete inputs (door sensors, 1 = closed),
 * served by modbus-serial's own servers: Modbus TCP on loopback (`ServerTCP`), or RTU (`ServerSerial`) on one
 * end of a pseudo-terminal pair made by `socat -d -d pty,raw,echo=0 pty,raw,echo=0`, the driver on the other.
 * No Modbus framing here. A coil written ON releases its latch (a pulse, recorded); the test then plays the
 * person: `pull` opens a released door (its input goes to 0), `push` closes it and the latch catches again.
 * A board can stop answering (`silence`: requests to it get no reply, as on a bus with a dead board), and a
 * coil can be made not to take (`stick`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Modbus, { type IServiceVector } from 'modbus-serial';
import { freePort } from './free-port.js';

export interface Pulse {
  unit: number;
  coil: number;
  at: number;
}

const key = (unit: number, addr: number) => `${unit}/${addr}`;
/** Never settles: the server then never answers the request (the client times out). */
const noAnswer = () => new Promise<never>(() => undefined);

export class BoardEmulator {
  readonly pulses: Pulse[] = [];
  /** Every coil write, in order (`unit/coil=1`). */
  readonly writes: string[] = [];
  readonly #coils = new Map<string, boolean>();
  readonly #inputs = new Map<string, boolean>();
  readonly #released = new Set<string>();
  readonly #silent = new Set<number>();
  readonly #stuck = new Set<string>();
  readonly #units: Set<number>;
  #close: (() => Promise<void>) | undefined;

  /** Boards with these unit ids; every door closed. */
  constructor(units: readonly number[] = [1]) {
    this.#units = new Set(units);
  }

  // ---- the boards ------------------------------------------------------------------------------------------

  coil(unit: number, coil: number): boolean {
    return this.#coils.get(key(unit, coil)) ?? false;
  }

  /** The raw input (true = 1 = closed with the default wiring). */
  input(unit: number, input: number): boolean {
    return this.#inputs.get(key(unit, input)) ?? true;
  }

  setInput(unit: number, input: number, value: boolean): void {
    this.#inputs.set(key(unit, input), value);
  }

  /** Pulses of one coil so far. */
  pulsesOf(unit: number, coil: number): number {
    return this.pulses.filter((p) => p.unit === unit && p.coil === coil).length;
  }

  /** The board stops answering (true) or answers again (false). */
  silence(unit: number, silent = true): void {
    if (silent) this.#silent.add(unit);
    else this.#silent.delete(unit);
  }

  /** Writes to this coil are acknowledged but do not take (it stays OFF). */
  stick(unit: number, coil: number, stuck = true): void {
    if (stuck) this.#stuck.add(key(unit, coil));
    else this.#stuck.delete(key(unit, coil));
  }

  // ---- the person at the locker ------------------------------------------------------------------------------

  /** Pulls the door of (unit, coil) whose sensor is `input`; it opens only when its latch was released. */
  pull(unit: number, coil: number, input = coil): boolean {
    if (!this.input(unit, input)) return true;
    if (!this.#released.has(key(unit, coil))) return false;
    this.setInput(unit, input, false);
    return true;
  }

  /** Pushes the door shut; the latch catches it. */
  push(unit: number, coil: number, input = coil): void {
    this.#released.delete(key(unit, coil));
    this.setInput(unit, input, true);
  }

  // ---- serving -----------------------------------------------------------------------------------------------

  readonly vector: IServiceVector = {
    getCoil: (addr: number, unit: number) => (this.#answers(unit) ? this.coil(unit, addr) : noAnswer()),
    getDiscreteInput: (addr: number, unit: number) => (this.#answers(unit) ? this.input(unit, addr) : noAnswer()),
    setCoil: (addr: number, value: boolean, unit: number) => {
      if (!this.#answers(unit)) return noAnswer();
      this.writes.push(`${unit}/${addr}=${value ? 1 : 0}`);
      if (this.#stuck.has(key(unit, addr))) return;
      const was = this.coil(unit, addr);
      this.#coils.set(key(unit, addr), value);
      if (value && !was) {
        this.pulses.push({ unit, coil: addr, at: Date.now() });
        this.#released.add(key(unit, addr));
      }
    },
  };

  /** Serves Modbus TCP on loopback; resolves with the driver's address (`modbus-tcp://127.0.0.1:PORT`). */
  async serveTcp(): Promise<string> {
    const port = await freePort();
    const server = new Modbus.ServerTCP(this.vector, { host: '127.0.0.1', port, unitID: 255 });
    server.on('socketError', () => undefined);
    await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
    this.#close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    return `modbus-tcp://127.0.0.1:${port}`;
  }

  /** Serves Modbus RTU on one end of a pseudo-terminal pair; resolves with the driver's address (the other end). */
  async serveRtu(baud = 38400): Promise<string> {
    const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ptys = await new Promise<string[]>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`socat made no pty pair: ${text}`)), 5000);
      socat.once('error', reject);
      socat.stderr.on('data', (d: Buffer) => {
        text += d.toString();
        const found = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1] ?? '');
        if (found.length >= 2) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });
    const ServerSerial = Modbus.ServerSerial;
    const server = new ServerSerial(this.vector, { path: ptys[0] ?? '', baudRate: baud, unitID: 255 });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
    this.#close = async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stop(socat);
    };
    return `modbus-rtu://${ptys[1]}?baud=${baud}`;
  }

  async close(): Promise<void> {
    await this.#close?.();
    this.#close = undefined;
  }

  #answers(unit: number): boolean {
    return this.#units.has(unit) && !this.#silent.has(unit);
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
