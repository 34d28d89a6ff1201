import { systemClock, type Clock } from '../shared/clock.js';

/**
 * Real time plus an offset the simulator moves forward to skip days (a pickup window) in a moment. Timers run in
 * real time: what waits on the clock (schedulers, retries) keeps polling and sees the jump.
 */
export class VirtualClock implements Clock {
  #offset = 0;

  now(): number {
    return Date.now() + this.#offset;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    return systemClock.setTimeout(fn, ms);
  }

  /** How far ahead of real time this clock is. */
  get offset(): number {
    return this.#offset;
  }

  advance(ms: number): void {
    this.#offset += ms;
  }
}
