export const systemClock = {
    now: () => Date.now(),
    setTimeout(fn, ms) {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
    },
};
/** A clock that moves only when told to. Timers due at or before the new time fire in time order. */
export class ManualClock {
    #now;
    #timers = new Set();
    #order = 0;
    constructor(start = Date.UTC(2026, 0, 1)) {
        this.#now = start;
    }
    now() {
        return this.#now;
    }
    setTimeout(fn, ms) {
        const timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn };
        this.#timers.add(timer);
        return () => {
            this.#timers.delete(timer);
        };
    }
    /** Moves time forward by `ms`, firing due timers (including ones they schedule) in order. */
    advance(ms) {
        const target = this.#now + ms;
        for (;;) {
            let next;
            for (const t of this.#timers) {
                if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.order < next.order)))
                    next = t;
            }
            if (!next)
                break;
            this.#timers.delete(next);
            this.#now = Math.max(this.#now, next.at);
            next.fn();
        }
        this.#now = target;
    }
    /** Sets the wall time without firing timers (a clock that jumps). */
    set(ms) {
        this.#now = ms;
    }
}
//# sourceMappingURL=clock.js.map