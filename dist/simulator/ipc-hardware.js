/**
 * LockerHardware inside a device process, backed by hardware that lives in the simulator's process (as a real
 * lock board outlives a controller crash): killing the device process leaves the doors as they are.
 */
export class IpcHardware {
    list;
    send;
    #rid = 0;
    #pending = new Map();
    #door = new Set();
    #keypad = new Set();
    #scan = new Set();
    constructor(list, send) {
        this.list = list;
        this.send = send;
    }
    receive(m) {
        if (m.t === 'reply') {
            this.#pending.get(m.rid)?.(m);
            this.#pending.delete(m.rid);
        }
        else if (m.t === 'door')
            for (const l of this.#door)
                l(m.id, m.state);
        else if (m.t === 'keypad')
            for (const l of this.#keypad)
                l(m.code);
        else if (m.t === 'scan')
            for (const l of this.#scan)
                l(m.data);
    }
    compartments() {
        return this.list;
    }
    async pulseLock(id) {
        await this.#call({ t: 'pulse', id, rid: 0 });
    }
    async readDoor(id) {
        return (await this.#call({ t: 'readDoor', id, rid: 0 })).door ?? 'closed';
    }
    onDoor(l) {
        this.#door.add(l);
        return () => this.#door.delete(l);
    }
    onKeypad(l) {
        this.#keypad.add(l);
        return () => this.#keypad.delete(l);
    }
    onScan(l) {
        this.#scan.add(l);
        return () => this.#scan.delete(l);
    }
    display(line) {
        this.send({ t: 'display', line });
    }
    #call(m) {
        const rid = ++this.#rid;
        return new Promise((resolve) => {
            this.#pending.set(rid, (r) => resolve(r));
            this.send({ ...m, rid });
        });
    }
}
/** The simulator's side: serves a device process from the SimulatedLocker and forwards what people do. */
export function hostHardware(child, sim, onStatus) {
    const send = (m) => {
        if (child.connected)
            child.send(m);
    };
    const onMessage = (raw) => {
        const m = raw;
        if (m.t === 'pulse')
            void sim.pulseLock(m.id).then(() => send({ t: 'reply', rid: m.rid }));
        else if (m.t === 'readDoor')
            void sim.readDoor(m.id).then((door) => send({ t: 'reply', rid: m.rid, door }));
        else if (m.t === 'display')
            sim.display(m.line);
        else if (m.t === 'status')
            onStatus(m);
    };
    child.on('message', onMessage);
    const stops = [
        sim.onDoor((id, state) => send({ t: 'door', id, state })),
        sim.onKeypad((code) => send({ t: 'keypad', code })),
        sim.onScan((data) => send({ t: 'scan', data })),
    ];
    return () => {
        child.off('message', onMessage);
        for (const s of stops)
            s();
    };
}
//# sourceMappingURL=ipc-hardware.js.map