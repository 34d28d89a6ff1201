/** Runs at most `max` tasks at once; the rest wait their turn, in order. */
export class Limiter {
    max;
    maxWaiting;
    #active = 0;
    #waiting = [];
    constructor(max, maxWaiting = 20_000) {
        this.max = max;
        this.maxWaiting = maxWaiting;
    }
    hasRoom() {
        return this.#waiting.length < this.maxWaiting;
    }
    async run(task) {
        if (this.#active >= this.max)
            await new Promise((resolve) => this.#waiting.push(resolve));
        this.#active++;
        try {
            return await task();
        }
        finally {
            this.#active--;
            this.#waiting.shift()?.();
        }
    }
}
//# sourceMappingURL=limiter.js.map