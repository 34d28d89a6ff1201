/**
 * The lock-board driver: compartments' locks are coils and their door sensors discrete inputs of Modbus boards,
 * reached over RS-485 (RTU) or TCP through `modbus-serial`. A pulse writes the coil ON, reads it back (a coil
 * that does not take is tried again, then fails), waits the pulse time and writes it OFF. The door sensors are
 * polled and debounced (modbus-poller.ts). Bus failures are retried with bounds and counted (modbus-bus.ts);
 * a board that stops answering is reported as a `board_down` fault, and `board_up` when it answers again.
 * Keypad and scanner are not on the boards: whatever reads them (a USB keypad, the locker's screen) hands
 * their input to `typed` and `scanned`.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Telemetry } from '../../shared/messages.js';
import type { CompartmentInfo, DoorState, HardwareFault, LockerHardware } from '../hardware.js';
import type { BusAddress } from './modbus-address.js';
import { BusError, ModbusBus } from './modbus-bus.js';
import { DoorPoller } from './modbus-poller.js';
import { unitsOf, type CompartmentWiring, type Wiring } from './modbus-wiring.js';
import { SensorWatch } from './sensor-watch.js';

export interface ModbusDriverOptions {
  address: BusAddress;
  compartments: readonly CompartmentInfo[];
  wiring: Wiring;
  clock?: Clock;
  log?: Logger;
}

/** What the hardware checklist reads from one board. */
export interface BoardReport {
  unit: number;
  answered: boolean;
  error?: string;
  /** Per compartment on this board: its coil and input, and what they read now. */
  compartments: { id: string; coil: number; input: number; coilOn?: boolean; door?: DoorState }[];
}

export const boardName = (unit: number) => `unit ${unit}`;

export class ModbusLockerHardware implements LockerHardware {
  readonly bus: ModbusBus;
  readonly #o: ModbusDriverOptions;
  readonly #clock: Clock;
  readonly #wiring = new Map<string, CompartmentWiring>();
  readonly #events = new EventEmitter();
  readonly #poller: DoorPoller;
  readonly #watch: SensorWatch;
  /** Coils whose OFF write failed: written again between polls. */
  readonly #leftOn = new Set<string>();

  constructor(options: ModbusDriverOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    for (const w of options.wiring.compartments) this.#wiring.set(w.id, w);
    this.#events.setMaxListeners(0);
    this.bus = new ModbusBus({
      address: options.address,
      clock: this.#clock,
      timeoutMs: options.wiring.timeoutMs,
      attempts: options.wiring.attempts,
      onBoard: (change) => {
        const board = boardName(change.unit);
        if (change.state === 'down') {
          options.log?.warn({ board, reason: change.reason, detail: change.detail }, 'lock board not answering');
          this.#fault({ kind: 'board_down', board, reason: change.reason });
        } else {
          options.log?.info({ board }, 'lock board answers again');
          this.#fault({ kind: 'board_up', board });
        }
      },
    });
    this.#watch = new SensorWatch(this.#clock, options.wiring.sensorSuspectPulses, options.wiring.sensorSuspectMs, (compartmentId, pulses) => {
      options.log?.warn({ compartmentId, pulses }, 'door sensor did not change after its lock was pulsed');
      this.#fault({ kind: 'sensor_suspect', compartmentId });
    });
    this.#poller = new DoorPoller({
      bus: this.bus,
      clock: this.#clock,
      compartments: options.wiring.compartments,
      pollMs: options.wiring.pollMs,
      debounceReads: options.wiring.debounceReads,
      onChange: (id, state) => {
        this.#watch.changed(id);
        this.#events.emit('door', id, state);
      },
      chores: () => this.#switchOffLeftCoils(),
    });
  }

  /** Reads every board once (so the doors' states are known) and starts polling. */
  async start(): Promise<void> {
    await this.#poller.pollOnce();
    this.#poller.assumeClosed();
    this.#poller.start();
  }

  async close(): Promise<void> {
    await this.#poller.stop();
    this.#watch.stop();
    await this.bus.close();
  }

  /** One polling round now (tests, and the checklist). */
  pollOnce(): Promise<void> {
    return this.#poller.pollOnce();
  }

  // ---- LockerHardware ----------------------------------------------------------------------------------------

  compartments(): readonly CompartmentInfo[] {
    return this.#o.compartments;
  }

  canPulse(compartmentId: string): boolean {
    const w = this.#wiring.get(compartmentId);
    return w !== undefined && !this.bus.isDown(w.unit);
  }

  async pulseLock(compartmentId: string): Promise<void> {
    const w = this.#get(compartmentId);
    let took = false;
    for (let attempt = 1; attempt <= this.#o.wiring.attempts && !took; attempt++) {
      await this.bus.writeCoil(w.unit, w.coil, true);
      took = (await this.bus.readCoils(w.unit, w.coil, 1))[0] === true;
    }
    if (!took) throw this.bus.fail(w.unit, 'COIL_NOT_TAKEN', `coil ${w.coil} of ${compartmentId} read OFF after being written ON`);
    this.#watch.pulsed(compartmentId);
    await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, w.pulseMs));
    try {
      await this.bus.writeCoil(w.unit, w.coil, false);
    } catch (err) {
      // The latch was released: the pulse happened. The coil is switched off as soon as the board answers.
      this.#leftOn.add(compartmentId);
      this.#o.log?.warn({ compartmentId, err: String(err) }, 'lock coil left ON; switching it off when the board answers');
    }
  }

  /** The debounced door state; a door whose board never answered reads closed until it does (then a change follows). */
  async readDoor(compartmentId: string): Promise<DoorState> {
    this.#get(compartmentId);
    return this.#poller.state(compartmentId) ?? 'closed';
  }

  onDoor(listener: (compartmentId: string, state: DoorState) => void): () => void {
    return this.#listen('door', listener);
  }

  onKeypad(listener: (code: string) => void): () => void {
    return this.#listen('keypad', listener);
  }

  onScan(listener: (data: string) => void): () => void {
    return this.#listen('scan', listener);
  }

  /** A new listener hears first of the boards already down (a board dead at boot is down before the agent listens). */
  onFault(listener: (fault: HardwareFault) => void): () => void {
    const stop = this.#listen('fault', listener);
    for (const { unit, reason } of this.bus.downBoards()) listener({ kind: 'board_down', board: boardName(unit), reason });
    return stop;
  }

  display(line: string): void {
    this.#events.emit('display', line);
    this.#o.log?.info({ line }, 'display');
  }

  async telemetry(): Promise<Telemetry> {
    return { bus: { errorsPerMinute: this.bus.errorsPerMinute(), boardsSeen: this.bus.boardsUp().length, boards: unitsOf(this.#o.wiring).length } };
  }

  // ---- input from whatever reads the keypad and the scanner --------------------------------------------------

  typed(code: string): void {
    this.#events.emit('keypad', code);
  }

  scanned(data: string): void {
    this.#events.emit('scan', data);
  }

  onDisplay(listener: (line: string) => void): () => void {
    return this.#listen('display', listener);
  }

  // ---- the hardware checklist --------------------------------------------------------------------------------

  /** Reads every board's coils and inputs the wiring uses; pulses nothing. */
  async check(): Promise<BoardReport[]> {
    const out: BoardReport[] = [];
    for (const unit of unitsOf(this.#o.wiring)) {
      const wired = this.#o.wiring.compartments.filter((c) => c.unit === unit);
      const report: BoardReport = { unit, answered: true, compartments: wired.map((c) => ({ id: c.id, coil: c.coil, input: c.input })) };
      try {
        for (const c of report.compartments) {
          const w = this.#get(c.id);
          c.coilOn = (await this.bus.readCoils(unit, w.coil, 1))[0] === true;
          c.door = ((await this.bus.readInputs(unit, w.input, 1))[0] === true) !== w.inverted ? 'closed' : 'open';
        }
      } catch (err) {
        report.answered = false;
        report.error = err instanceof BusError ? err.reason : String(err);
      }
      out.push(report);
    }
    return out;
  }

  async #switchOffLeftCoils(): Promise<void> {
    for (const id of [...this.#leftOn]) {
      const w = this.#get(id);
      await this.bus.writeCoil(w.unit, w.coil, false);
      this.#leftOn.delete(id);
    }
  }

  #fault(fault: HardwareFault): void {
    this.#events.emit('fault', fault);
  }

  #get(id: string): CompartmentWiring {
    const w = this.#wiring.get(id);
    if (!w) throw new Error(`no compartment ${id}`);
    return w;
  }

  #listen<A extends unknown[]>(event: string, listener: (...args: A) => void): () => void {
    const l = (...args: unknown[]) => listener(...(args as A));
    this.#events.on(event, l);
    return () => this.#events.off(event, l);
  }
}
