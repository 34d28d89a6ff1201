import { EventEmitter } from 'node:events';
import type { CompartmentInfo, DoorState, LockerHardware } from '../device/hardware.js';
import type { Telemetry } from '../shared/messages.js';

interface SimCompartment {
  info: CompartmentInfo;
  door: DoorState;
  /** The latch let go and the door may be pulled open. */
  released: boolean;
  jammed: boolean;
  pulses: number;
}

/** What the agent shows when it does not open (a person reads it and tries again). */
const REFUSAL_LINES = ['Code not valid', 'Not ready', 'Temporarily out of service'];

/**
 * Simulated locker hardware: latches, door sensors, keypad, scanner and display. The agent drives it through
 * `LockerHardware`; simulated people use the other methods (type a code, pull a door, push it shut).
 */
export class SimulatedLocker implements LockerHardware {
  readonly #compartments = new Map<string, SimCompartment>();
  readonly #events = new EventEmitter();
  readonly displayed: string[] = [];
  /** What the sensors read; tests and scenarios change it with `setTelemetry`. */
  #telemetry: Telemetry = { firmwareVersion: 'sim-1.0.0', temperatureC: 21, power: { source: 'mains', batteryPct: 100 } };

  constructor(compartments: readonly CompartmentInfo[]) {
    for (const info of compartments) {
      this.#compartments.set(info.id, { info, door: 'closed', released: false, jammed: false, pulses: 0 });
    }
    this.#events.setMaxListeners(0);
  }

  // ---- LockerHardware ----------------------------------------------------------------------------------------

  compartments(): readonly CompartmentInfo[] {
    return [...this.#compartments.values()].map((c) => c.info);
  }

  async pulseLock(compartmentId: string): Promise<void> {
    const c = this.#get(compartmentId);
    c.pulses++;
    if (c.jammed) return;
    c.released = true;
    this.#events.emit('released', compartmentId);
  }

  async readDoor(compartmentId: string): Promise<DoorState> {
    return this.#get(compartmentId).door;
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

  onDoesNotFit(listener: () => void): () => void {
    return this.#listen('doesNotFit', listener);
  }

  async telemetry(): Promise<Telemetry> {
    return structuredClone(this.#telemetry);
  }

  display(line: string): void {
    this.#events.emit('display', line);
    this.displayed.push(line);
    if (this.displayed.length > 50) this.displayed.shift();
  }

  // ---- the person at the locker ------------------------------------------------------------------------------

  type(code: string): void {
    this.#events.emit('keypad', code);
  }

  scan(data: string): void {
    this.#events.emit('scan', data);
  }

  /** The courier presses the keypad's "does not fit" key. */
  pressDoesNotFit(): void {
    this.#events.emit('doesNotFit');
  }

  /** Changes what the sensors read (a power cut: `{power: {source: 'battery', batteryPct: 80}}`). */
  setTelemetry(change: Partial<Telemetry>): void {
    this.#telemetry = { ...this.#telemetry, ...change };
  }

  isDoorOpen(compartmentId: string): boolean {
    return this.#get(compartmentId).door === 'open';
  }

  isReleased(compartmentId: string): boolean {
    return this.#get(compartmentId).released;
  }

  /** Pulls the door; it opens only when the latch was released. */
  openDoor(compartmentId: string): boolean {
    const c = this.#get(compartmentId);
    if (c.door === 'open') return true;
    if (!c.released) return false;
    c.door = 'open';
    this.#events.emit('door', compartmentId, 'open');
    return true;
  }

  /** Forces the door open whatever the latch says (vandalism, a broken lock). */
  forceOpen(compartmentId: string): void {
    const c = this.#get(compartmentId);
    if (c.door === 'open') return;
    c.door = 'open';
    this.#events.emit('door', compartmentId, 'open');
  }

  /** Pushes the door shut; the latch catches it again. */
  closeDoor(compartmentId: string): void {
    const c = this.#get(compartmentId);
    c.released = false;
    if (c.door === 'closed') return;
    c.door = 'closed';
    this.#events.emit('door', compartmentId, 'closed');
  }

  /**
   * Resolves with the first compartment whose latch is released after this call; null when the display says the
   * code was not taken, or after `timeoutMs` (a person gives up waiting).
   */
  waitForRelease(timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const done = (result: string | null) => {
        clearTimeout(timer);
        this.#events.off('released', onRelease);
        this.#events.off('display', onDisplay);
        resolve(result);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      const onRelease = (id: string) => done(id);
      const onDisplay = (line: string) => {
        if (REFUSAL_LINES.some((r) => line.startsWith(r))) done(null);
      };
      this.#events.on('released', onRelease);
      this.#events.on('display', onDisplay);
    });
  }

  jam(compartmentId: string, jammed = true): void {
    this.#get(compartmentId).jammed = jammed;
  }

  pulses(compartmentId: string): number {
    return this.#get(compartmentId).pulses;
  }

  #get(id: string): SimCompartment {
    const c = this.#compartments.get(id);
    if (!c) throw new Error(`no compartment ${id}`);
    return c;
  }

  #listen<A extends unknown[]>(event: string, listener: (...args: A) => void): () => void {
    const l = (...args: unknown[]) => listener(...(args as A));
    this.#events.on(event, l);
    return () => this.#events.off(event, l);
  }
}
