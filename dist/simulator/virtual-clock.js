import { systemClock } from '../shared/clock.js';
/**
 * Real time plus an offset the simulator moves forward to skip days (a pickup window) in a moment. Timers run in
 * real time: what waits on the clock (schedulers, retries) keeps polling and sees the jump.
 */
export class VirtualClock {
    #offset = 0;
    now() {
        return Date.now() + this.#offset;
    }
    setTimeout(fn, ms) {
        return systemClock.setTimeout(fn, ms);
    }
    /** How far ahead of real time this clock is. */
    get offset() {
        return this.#offset;
    }
    advance(ms) {
        this.#offset += ms;
    }
}
//# sourceMappingURL=virtual-clock.js.map