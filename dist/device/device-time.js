/**
 * The locker's estimate of the true time. It follows the device clock corrected by the server's time (learned
 * from every sync message) and never goes backwards, even across reboots (the floor is persisted with every
 * event): a clock that jumps back cannot bring an expired grant back to life. The server's word resets it.
 */
export class DeviceTime {
    clock;
    #s;
    constructor(clock, saved) {
        this.clock = clock;
        this.#s = saved ?? { offset: 0, floor: 0, serverTime: 0 };
    }
    now() {
        const t = this.clock.now() + this.#s.offset;
        if (t < this.#s.floor)
            return this.#s.floor;
        this.#s.floor = t;
        return t;
    }
    /** The server said it is `serverTime` now. */
    learn(serverTime) {
        this.#s = { offset: serverTime - this.clock.now(), floor: serverTime, serverTime: Math.max(this.#s.serverTime, serverTime) };
    }
    /** Latest time the server confirmed (for decisions a wrong device clock must not drive, like forgetting). */
    get serverConfirmed() {
        return this.#s.serverTime;
    }
    serialize() {
        return JSON.stringify(this.#s);
    }
    static parse(raw) {
        if (!raw)
            return undefined;
        try {
            const s = JSON.parse(raw);
            if (typeof s.offset === 'number' && typeof s.floor === 'number' && typeof s.serverTime === 'number') {
                return { offset: s.offset, floor: s.floor, serverTime: s.serverTime };
            }
        }
        catch {
            // A damaged time record is ignored: the next sync message sets the time again.
        }
        return undefined;
    }
}
//# sourceMappingURL=device-time.js.map