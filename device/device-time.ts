import type { Clock } from '../shared/clock.js';

export interface TimeState {
  /** Server time minus device clock, ms, as last learned. */
  offset: number;
  /** The latest time this locker has believed: time never runs backwards for it. */
  floor: number;
  /** The latest time the server itself stated. */
  serverTime: number;
}

/**
 * The locker's estimate of the true time. It follows the device clock corrected by the server's time (learned
 * from every sync message) and never goes backwards, even across reboots (the floor is persisted with every
 * event): a clock that jumps back cannot bring an expired grant back to life. The server's word resets it.
 */
export class DeviceTime {
  #s: TimeState;

  constructor(
    private readonly clock: Clock,
    saved?: TimeState,
  ) {
    this.#s = saved ?? { offset: 0, floor: 0, serverTime: 0 };
  }

  now(): number {
    const t = this.clock.now() + this.#s.offset;
    if (t < this.#s.floor) return this.#s.floor;
    this.#s.floor = t;
    return t;
  }

  /** The server said it is `serverTime` now. */
  learn(serverTime: number): void {
    this.#s = { offset: serverTime - this.clock.now(), floor: serverTime, serverTime: Math.max(this.#s.serverTime, serverTime) };
  }

  /** Latest time the server confirmed (for decisions a wrong device clock must not drive, like forgetting). */
  get serverConfirmed(): number {
    return this.#s.serverTime;
  }

  serialize(): string {
    return JSON.stringify(this.#s);
  }

  static parse(raw: string | undefined): TimeState | undefined {
    if (!raw) return undefined;
    try {
      const s = JSON.parse(raw) as Partial<TimeState>;
      if (typeof s.offset === 'number' && typeof s.floor === 'number' && typeof s.serverTime === 'number') {
        return { offset: s.offset, floor: s.floor, serverTime: s.serverTime };
      }
    } catch {
      // A damaged time record is ignored: the next sync message sets the time again.
    }
    return undefined;
  }
}
