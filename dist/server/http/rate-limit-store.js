/**
 * A fixed-window counter store for @fastify/rate-limit that reads time from the injected clock (its own store
 * reads Date.now), so tests and simulations move the windows with their clock. In memory, per process; at most
 * `maxKeys` keys, dropping ended windows first and then the oldest.
 */
export function clockWindowStore(clock, maxKeys = 100_000) {
    class ClockWindowStore {
        #windows = new Map();
        incr(key, callback, timeWindow) {
            const now = clock.now();
            let w = this.#windows.get(key);
            if (!w || w.startedAt + timeWindow <= now) {
                w = { count: 0, startedAt: now };
                // Re-inserting keeps the map in window-start order, which pruning relies on.
                this.#windows.delete(key);
                this.#windows.set(key, w);
                if (this.#windows.size > maxKeys)
                    this.#prune(now, timeWindow);
            }
            w.count += 1;
            callback(null, { current: w.count, ttl: w.startedAt + timeWindow - now });
        }
        child() {
            return new ClockWindowStore();
        }
        #prune(now, timeWindow) {
            for (const [key, w] of this.#windows) {
                if (w.startedAt + timeWindow > now && this.#windows.size <= maxKeys)
                    break;
                this.#windows.delete(key);
            }
        }
    }
    return ClockWindowStore;
}
//# sourceMappingURL=rate-limit-store.js.map