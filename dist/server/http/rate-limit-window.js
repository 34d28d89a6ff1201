/**
 * Fixed-window counters by key (a client address), on the injected clock: `count` adds one and returns the
 * window's count, `giveBack` takes one back, `peek` reads it without counting. At most `maxKeys` keys, dropping ended windows first and then
 * the oldest, so a flood of addresses cannot grow it without bound.
 */
export class WindowCounter {
    clock;
    windowMs;
    maxKeys;
    #windows = new Map();
    constructor(clock, windowMs, maxKeys = 100_000) {
        this.clock = clock;
        this.windowMs = windowMs;
        this.maxKeys = maxKeys;
    }
    count(key) {
        const now = this.clock.now();
        let w = this.#current(key, now);
        if (!w) {
            w = { count: 0, startedAt: now };
            // Re-inserting keeps the map in window-start order, which pruning relies on.
            this.#windows.delete(key);
            this.#windows.set(key, w);
            if (this.#windows.size > this.maxKeys)
                this.#prune(now);
        }
        return ++w.count;
    }
    /** Takes back one count of the key's current window (an attempt that turned out to be legitimate). */
    giveBack(key) {
        const w = this.#current(key, this.clock.now());
        if (w && w.count > 0)
            w.count--;
    }
    peek(key) {
        return this.#current(key, this.clock.now())?.count ?? 0;
    }
    /** Milliseconds until the key's window ends (0 when it has none). */
    msLeft(key) {
        const now = this.clock.now();
        const w = this.#current(key, now);
        return w ? w.startedAt + this.windowMs - now : 0;
    }
    #current(key, now) {
        const w = this.#windows.get(key);
        return w && w.startedAt + this.windowMs > now ? w : undefined;
    }
    #prune(now) {
        for (const [key, w] of this.#windows) {
            if (w.startedAt + this.windowMs > now && this.#windows.size <= this.maxKeys)
                break;
            this.#windows.delete(key);
        }
    }
}
//# sourceMappingURL=rate-limit-window.js.map