/**
 * One Modbus bus (an RS-485 line or a TCP connection) as the driver uses it: requests run one at a time (a
 * serial bus carries one transaction at once), each with a timeout and a bounded number of tries; every failed
 * try is counted, and each board (unit id) is known up or down. A board whose request failed every try is down
 * (`onBoard` hears `down` once, with why); the next answer from it makes it up again. The bus never throws
 * anything but a `BusError`, and reconnects by itself when the port or connection went away.
 */
import Modbus from 'modbus-serial';
import type { Clock } from '../../shared/clock.js';
import { describeBus, type BusAddress } from './modbus-address.js';

/** Why a request failed: no answer in time, a damaged frame, the board refused it, the port or link is gone. */
export type BusFailure = 'NO_ANSWER' | 'CRC_ERROR' | 'BOARD_EXCEPTION' | 'PORT_UNAVAILABLE' | 'COIL_NOT_TAKEN';

export class BusError extends Error {
  constructor(
    readonly unit: number,
    readonly reason: BusFailure,
    detail: string,
  ) {
    super(`unit ${unit}: ${reason} (${detail})`);
  }
}

export type BoardChange = { unit: number; state: 'down'; reason: BusFailure; detail: string } | { unit: number; state: 'up' };

export interface BusOptions {
  address: BusAddress;
  clock: Clock;
  timeoutMs: number;
  attempts: number;
  onBoard?: (change: BoardChange) => void;
}

const MINUTE = 60_000;

/** The client class (a CommonJS module whose `default` is itself). */
const ModbusRTU = Modbus.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

function classify(err: unknown): { reason: BusFailure; detail: string } {
  const e = err as { errno?: string; message?: string; modbusCode?: number } | null;
  const detail = e?.message ?? String(err);
  if (typeof e?.modbusCode === 'number') return { reason: 'BOARD_EXCEPTION', detail };
  if (e?.errno === 'ETIMEDOUT') return { reason: 'NO_ANSWER', detail };
  if (/crc/i.test(detail)) return { reason: 'CRC_ERROR', detail };
  return { reason: 'PORT_UNAVAILABLE', detail };
}

export class ModbusBus {
  readonly #o: BusOptions;
  #client: ModbusRTU | undefined;
  #connecting: Promise<ModbusRTU> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Times of failed tries in the last minute. */
  #errors: number[] = [];
  #errorsTotal = 0;
  readonly #down = new Map<number, BusFailure>();
  readonly #seen = new Set<number>();
  #closed = false;

  constructor(options: BusOptions) {
    this.#o = options;
  }

  get description(): string {
    return describeBus(this.#o.address);
  }

  /** Failed tries over the last minute. */
  errorsPerMinute(): number {
    const since = this.#o.clock.now() - MINUTE;
    this.#errors = this.#errors.filter((t) => t > since);
    return this.#errors.length;
  }

  get errorsTotal(): number {
    return this.#errorsTotal;
  }

  /** Boards that answered at least once and are not down now. */
  boardsUp(): number[] {
    return [...this.#seen].filter((u) => !this.#down.has(u)).sort((a, b) => a - b);
  }

  /** The boards down now, with why. */
  downBoards(): { unit: number; reason: BusFailure }[] {
    return [...this.#down].map(([unit, reason]) => ({ unit, reason }));
  }

  isDown(unit: number): boolean {
    return this.#down.has(unit);
  }

  readCoils(unit: number, start: number, count: number): Promise<boolean[]> {
    return this.#request(unit, async (c) => (await c.readCoils(start, count)).data.slice(0, count));
  }

  readInputs(unit: number, start: number, count: number): Promise<boolean[]> {
    return this.#request(unit, async (c) => (await c.readDiscreteInputs(start, count)).data.slice(0, count));
  }

  async writeCoil(unit: number, coil: number, on: boolean): Promise<void> {
    await this.#request(unit, (c) => c.writeCoil(coil, on));
  }

  /** Counts a failure the driver found itself (a coil that did not take) and marks the board down for it. */
  fail(unit: number, reason: BusFailure, detail: string): BusError {
    this.#count();
    this.#markDown(unit, reason, detail);
    return new BusError(unit, reason, detail);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.#drop();
  }

  /** Runs `op` on the bus alone, up to `attempts` times; BusError when every try failed. */
  #request<T>(unit: number, op: (client: ModbusRTU) => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#tries(unit, op));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #tries<T>(unit: number, op: (client: ModbusRTU) => Promise<T>): Promise<T> {
    let last = { reason: 'PORT_UNAVAILABLE' as BusFailure, detail: 'not tried' };
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      if (this.#closed) throw new BusError(unit, 'PORT_UNAVAILABLE', 'the driver is closed');
      try {
        const client = await this.#connect();
        client.setID(unit);
        const value = await op(client);
        this.#markUp(unit);
        return value;
      } catch (err) {
        last = classify(err);
        this.#count();
        // A port or link that went away is opened again on the next try.
        if (last.reason === 'PORT_UNAVAILABLE') await this.#drop();
      }
    }
    this.#markDown(unit, last.reason, last.detail);
    throw new BusError(unit, last.reason, last.detail);
  }

  #count(): void {
    this.#errors.push(this.#o.clock.now());
    this.#errorsTotal++;
    if (this.#errors.length > 10_000) this.#errors.splice(0, this.#errors.length - 10_000);
  }

  #markUp(unit: number): void {
    this.#seen.add(unit);
    if (this.#down.delete(unit)) this.#o.onBoard?.({ unit, state: 'up' });
  }

  #markDown(unit: number, reason: BusFailure, detail: string): void {
    if (this.#down.has(unit)) return;
    this.#down.set(unit, reason);
    this.#o.onBoard?.({ unit, state: 'down', reason, detail });
  }

  #connect(): Promise<ModbusRTU> {
    if (this.#client?.isOpen) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      await this.#drop();
      const client = new ModbusRTU();
      // A late error from a dead link must not crash the agent: the next request finds the port closed.
      client.on('error', () => undefined);
      const a = this.#o.address;
      if (a.transport === 'tcp') await client.connectTCP(a.host, { port: a.port, timeout: this.#o.timeoutMs });
      else await client.connectRTUBuffered(a.path, { baudRate: a.baudRate, parity: a.parity, stopBits: a.stopBits, dataBits: a.dataBits });
      client.setTimeout(this.#o.timeoutMs);
      this.#client = client;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => {
      try {
        client.close(() => resolve());
      } catch {
        resolve();
      }
      // Some ports never call back when the link is already gone.
      setTimeout(resolve, 200).unref();
    });
  }
}
