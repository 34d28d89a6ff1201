import { EventEmitter } from 'node:events';
/** What the agent shows when it does not open (a person reads it and tries again). */
const REFUSAL_LINES = ['Code not valid', 'Not ready', 'Temporarily out of service'];
/**
 * Simulated locker hardware: latches, door sensors, keypad, scanner and display. The agent drives it through
 * `LockerHardware`; simulated people use the other methods (type a code, pull a door, push it shut).
 */
export class SimulatedLocker {
    #compartments = new Map();
    #events = new EventEmitter();
    displayed = [];
    /** What the sensors read; tests and scenarios change it with `setTelemetry`. */
    #telemetry = { firmwareVersion: 'sim-1.0.0', temperatureC: 21, power: { source: 'mains', batteryPct: 100 } };
    constructor(compartments) {
        for (const info of compartments) {
            this.#compartments.set(info.id, { info, door: 'closed', released: false, jammed: false, pulses: 0 });
        }
        this.#events.setMaxListeners(0);
    }
    // ---- LockerHardware ----------------------------------------------------------------------------------------
    compartments() {
        return [...this.#compartments.values()].map((c) => c.info);
    }
    async pulseLock(compartmentId) {
        const c = this.#get(compartmentId);
        c.pulses++;
        if (c.jammed)
            return;
        c.released = true;
        this.#events.emit('released', compartmentId);
    }
    async readDoor(compartmentId) {
        return this.#get(compartmentId).door;
    }
    onDoor(listener) {
        return this.#listen('door', listener);
    }
    onKeypad(listener) {
        return this.#listen('keypad', listener);
    }
    onScan(listener) {
        return this.#listen('scan', listener);
    }
    onDoesNotFit(listener) {
        return this.#listen('doesNotFit', listener);
    }
    async telemetry() {
        return structuredClone(this.#telemetry);
    }
    display(line) {
        this.#events.emit('display', line);
        this.displayed.push(line);
        if (this.displayed.length > 50)
            this.displayed.shift();
    }
    // ---- the person at the locker ------------------------------------------------------------------------------
    type(code) {
        this.#events.emit('keypad', code);
    }
    scan(data) {
        this.#events.emit('scan', data);
    }
    /** The courier presses the keypad's "does not fit" key. */
    pressDoesNotFit() {
        this.#events.emit('doesNotFit');
    }
    /** Changes what the sensors read (a power cut: `{power: {source: 'battery', batteryPct: 80}}`). */
    setTelemetry(change) {
        this.#telemetry = { ...this.#telemetry, ...change };
    }
    isDoorOpen(compartmentId) {
        return this.#get(compartmentId).door === 'open';
    }
    isReleased(compartmentId) {
        return this.#get(compartmentId).released;
    }
    /** Pulls the door; it opens only when the latch was released. */
    openDoor(compartmentId) {
        const c = this.#get(compartmentId);
        if (c.door === 'open')
            return true;
        if (!c.released)
            return false;
        c.door = 'open';
        this.#events.emit('door', compartmentId, 'open');
        return true;
    }
    /** Forces the door open whatever the latch says (vandalism, a broken lock). */
    forceOpen(compartmentId) {
        const c = this.#get(compartmentId);
        if (c.door === 'open')
            return;
        c.door = 'open';
        this.#events.emit('door', compartmentId, 'open');
    }
    /** Pushes the door shut; the latch catches it again. */
    closeDoor(compartmentId) {
        const c = this.#get(compartmentId);
        c.released = false;
        if (c.door === 'closed')
            return;
        c.door = 'closed';
        this.#events.emit('door', compartmentId, 'closed');
    }
    /**
     * Resolves with the first compartment whose latch is released after this call; null when the display says the
     * code was not taken, or after `timeoutMs` (a person gives up waiting).
     */
    waitForRelease(timeoutMs) {
        return new Promise((resolve) => {
            const done = (result) => {
                clearTimeout(timer);
                this.#events.off('released', onRelease);
                this.#events.off('display', onDisplay);
                resolve(result);
            };
            const timer = setTimeout(() => done(null), timeoutMs);
            const onRelease = (id) => done(id);
            const onDisplay = (line) => {
                if (REFUSAL_LINES.some((r) => line.startsWith(r)))
                    done(null);
            };
            this.#events.on('released', onRelease);
            this.#events.on('display', onDisplay);
        });
    }
    jam(compartmentId, jammed = true) {
        this.#get(compartmentId).jammed = jammed;
    }
    pulses(compartmentId) {
        return this.#get(compartmentId).pulses;
    }
    #get(id) {
        const c = this.#compartments.get(id);
        if (!c)
            throw new Error(`no compartment ${id}`);
        return c;
    }
    #listen(event, listener) {
        const l = (...args) => listener(...args);
        this.#events.on(event, l);
        return () => this.#events.off(event, l);
    }
}
//# sourceMappingURL=simulated-locker.js.map