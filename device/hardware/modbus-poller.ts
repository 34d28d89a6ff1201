/**
 * Reads the door sensors of every board on a timer and turns raw reads into door changes: a sensor's new value
 * counts only after `debounceReads` equal reads in a row (contact bounce, a door rattled by the wind). A board
 * that does not answer keeps its doors' last known states; its failure is the bus's to count and report.
 */
import type { Clock } from '../../shared/clock.js';
import type { DoorState } from '../hardware.js';
import type { ModbusBus } from './modbus-bus.js';
import type { CompartmentWiring } from './modbus-wiring.js';

interface SensorState {
  wiring: CompartmentWiring;
  /** The debounced state (what the agent was told), undefined before the first read. */
  stable: DoorState | undefined;
  candidate: DoorState | undefined;
  runs: number;
}

export interface PollerOptions {
  bus: ModbusBus;
  clock: Clock;
  compartments: readonly CompartmentWiring[];
  pollMs: number;
  debounceReads: number;
  /** A debounced change (not called for the first read of a sensor). */
  onChange: (compartmentId: string, state: DoorState) => void;
  /** Extra bus work to run between polls (a coil left ON after a failed OFF write). */
  chores?: () => Promise<void>;
}

export class DoorPoller {
  readonly #o: PollerOptions;
  readonly #sensors = new Map<string, SensorState>();
  /** Per unit: the input range its compartments use. */
  readonly #ranges = new Map<number, { start: number; count: number; sensors: SensorState[] }>();
  #cancel: (() => void) | undefined;
  #running = false;
  #stopped = false;
  #round: Promise<void> = Promise.resolve();

  constructor(options: PollerOptions) {
    this.#o = options;
    for (const wiring of options.compartments) {
      const s: SensorState = { wiring, stable: undefined, candidate: undefined, runs: 0 };
      this.#sensors.set(wiring.id, s);
      const r = this.#ranges.get(wiring.unit);
      if (!r) this.#ranges.set(wiring.unit, { start: wiring.input, count: 1, sensors: [s] });
      else {
        const end = Math.max(r.start + r.count, wiring.input + 1);
        r.start = Math.min(r.start, wiring.input);
        r.count = end - r.start;
        r.sensors.push(s);
      }
    }
  }

  /** The debounced state of a door; undefined while its board has not answered yet. */
  state(compartmentId: string): DoorState | undefined {
    return this.#sensors.get(compartmentId)?.stable;
  }

  /** One round: every board read once. Never throws (a board that fails is the bus's to report). */
  pollOnce(): Promise<void> {
    this.#round = this.#round.then(() => this.#poll());
    return this.#round;
  }

  /**
   * Sensors whose board has not answered yet are taken as closed (what `state` then reads as, for the agent), so
   * that a door the board later reports open becomes a change the agent hears.
   */
  assumeClosed(): void {
    for (const s of this.#sensors.values()) {
      if (s.stable !== undefined) continue;
      s.stable = 'closed';
      s.candidate = 'closed';
    }
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.#cancel = this.#o.clock.setTimeout(() => {
        void this.pollOnce().then(() => {
          if (!this.#stopped) tick();
        });
      }, this.#o.pollMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#round;
  }

  async #poll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (const [unit, range] of this.#ranges) {
        let bits: boolean[];
        try {
          bits = await this.#o.bus.readInputs(unit, range.start, range.count);
        } catch {
          continue;
        }
        for (const s of range.sensors) {
          const closed = (bits[s.wiring.input - range.start] ?? false) !== s.wiring.inverted;
          this.#observe(s, closed ? 'closed' : 'open');
        }
      }
      await this.#o.chores?.().catch(() => undefined);
    } finally {
      this.#running = false;
    }
  }

  #observe(s: SensorState, read: DoorState): void {
    if (s.stable === undefined) {
      s.stable = read;
      s.candidate = read;
      s.runs = this.#o.debounceReads;
      return;
    }
    if (read !== s.candidate) {
      s.candidate = read;
      s.runs = 1;
    } else s.runs++;
    if (s.candidate !== s.stable && s.runs >= this.#o.debounceReads) {
      s.stable = s.candidate;
      this.#o.onChange(s.wiring.id, s.stable);
    }
  }
}
