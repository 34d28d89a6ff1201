import path from 'node:path';
import { ApiClient, ApiError } from './api-client.js';
import { startProcessLocker, startSimLocker } from './fleet.js';
import { Recorder } from './metrics.js';
import { awaitCode, awaitPickupCode, visitLocker } from './people.js';
import { seededRandom } from './random.js';
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
/** Longest a carrier keeps retrying a booking while the locker is full (pickups free compartments). */
const BOOKING_PATIENCE_MS = 180_000;
/**
 * One part of the fleet, in whatever process hosts it: registers and runs its lockers (each the real agent with
 * its own store and MQTT connection), sends couriers and recipients to them as planned, injects its faults, and
 * reports counts and latencies through its Recorder.
 */
export class Shard {
    init;
    clock;
    recorder = new Recorder();
    api;
    /** By index in the whole fleet. */
    lockers = new Map();
    #problems = [];
    #parcelIds = [];
    /** Compartments holding (or booked for) one of our parcels, per locker id: forced opens leave them alone. */
    #busy = new Map();
    #noShowsPending = [];
    #noShowsInLocker = [];
    #powerCuts = 0;
    #forcedOpens = 0;
    constructor(init, clock) {
        this.init = init;
        this.clock = clock;
        this.api = new ApiClient(init.servers, init.token, { onReadRetry: () => this.recorder.add('readRetries') });
    }
    /**
     * Registers and starts every locker of the shard, a few at a time (each is an API call, a key pair, a store,
     * an enrolment), and no faster than they come up: while `maxStarting` agents still wait for their first
     * configuration, registration pauses. On a busy server, connects would otherwise queue behind registrations,
     * time out and come again, each retry one more sign-in to check.
     */
    async start(maxStarting = 60) {
        const queue = [...this.init.lockers];
        const proxied = this.init.proxied === 'all' ? null : new Set(this.init.proxied);
        const worker = async () => {
            for (let l = queue.shift(); l; l = queue.shift()) {
                while (this.lockers.size - this.ready() >= maxStarting)
                    await sleep(100);
                const setup = {
                    api: this.api,
                    name: l.name,
                    location: { lat: l.lat, lon: l.lon },
                    compartments: this.init.compartments,
                    dataDir: path.join(this.init.workDir),
                    clock: this.clock,
                    random: seededRandom(l.seed),
                    seed: l.seed,
                    recorder: this.recorder,
                    startJitterMs: this.init.startJitterMs,
                    ackTimeoutMs: this.init.ackTimeoutMs,
                    direct: proxied !== null && !proxied.has(l.index),
                };
                this.lockers.set(l.index, this.init.processes ? await startProcessLocker(setup) : await startSimLocker(setup));
                this.recorder.add('registered');
            }
        };
        await Promise.all(Array.from({ length: Math.max(1, this.init.registerConcurrency) }, worker));
    }
    connected() {
        let n = 0;
        for (const l of this.lockers.values()) {
            const agent = l.agent;
            if (agent ? agent.sync.connected : l.ready())
                n++;
        }
        return n;
    }
    ready() {
        let n = 0;
        for (const l of this.lockers.values())
            if (l.ready())
                n++;
        return n;
    }
    /** Runs the planned journeys of this shard's parcels; `t0` is the wall-clock time traffic starts. */
    async runFlows(flows, t0) {
        await Promise.all(flows.map((f) => (f.noShow ? this.#noShowsPending.push(f) : this.#journey(f, t0))));
    }
    async #journey(f, t0) {
        const locker = this.#locker(f.locker);
        const fail = (problem) => {
            this.recorder.add('failed');
            this.#problems.push(`${f.reference}: ${problem}`);
        };
        try {
            await sleep(t0 + f.startMs - Date.now());
            const parcel = await this.#book(locker.id, f.size, f.reference);
            if (!parcel)
                return fail(`could not book at ${locker.id}`);
            if (f.jam)
                locker.hardware.jam(parcel.compartmentId);
            // A jammed latch: the agent tries it twice, calls it jammed and opens another compartment for the same code.
            const drop = await visitLocker(locker, parcel.dropoff, parcel.compartmentId, {
                useQr: f.qrDropoff,
                holdMs: f.holdMs,
                ...(f.jam ? { acceptAnyDoor: true, releaseTimeoutMs: this.init.jamWaitMs, tries: 2 } : {}),
            });
            if (f.jam)
                locker.hardware.jam(parcel.compartmentId, false);
            if (!drop.ok) {
                if (f.jam) {
                    // A planned fault, not a failure of the system: the parcel stays booked (in transit) in the books.
                    this.recorder.add('faulted');
                    return;
                }
                return fail(`deposit failed: ${drop.problem}`);
            }
            if (drop.unlockMs !== undefined)
                this.recorder.latency('unlock', drop.unlockMs);
            this.recorder.add('deposited');
            const door = drop.door ?? parcel.compartmentId;
            this.#hold(locker.id, door);
            await sleep(f.pickupAfterMs);
            const code = await awaitPickupCode(this.api, parcel.id, 120_000, this.init.pollMs);
            if (!code)
                return fail('no pickup code was released');
            const pickup = await visitLocker(locker, code, door, { useQr: f.qrPickup, holdMs: f.holdMs });
            if (!pickup.ok)
                return fail(`pickup failed: ${pickup.problem}`);
            if (pickup.unlockMs !== undefined)
                this.recorder.latency('unlock', pickup.unlockMs);
            this.#release(locker.id, door);
            this.#release(locker.id, parcel.compartmentId);
            this.recorder.add('pickedUp');
        }
        catch (err) {
            fail(err instanceof Error ? err.message : String(err));
        }
    }
    /** A carrier books, waiting and retrying while the locker is full; the latency counted is the accepted request's. */
    async #book(lockerId, size, reference, patienceMs = BOOKING_PATIENCE_MS) {
        const until = Date.now() + patienceMs;
        for (let wait = 100;; wait = Math.min(1000, wait * 1.5)) {
            const asked = performance.now();
            try {
                const parcel = await this.api.post('/v1/parcels', { lockerId, size, recipient: { email: `${reference.toLowerCase()}@example.test` }, reference });
                this.recorder.latency('booking', performance.now() - asked);
                this.recorder.add('booked');
                this.#parcelIds.push(parcel.id);
                this.#hold(lockerId, parcel.compartmentId);
                return parcel;
            }
            catch (err) {
                if (!(err instanceof ApiError) || err.code !== 'NO_FREE_COMPARTMENT')
                    throw err;
                if (Date.now() + wait > until)
                    return null;
                await sleep(wait);
            }
        }
    }
    /**
     * No-shows, once everyone else is done: couriers deposit as many as fit, then wait until the server has them
     * all as deposited. The coordinator then moves virtual time past the pickup window and calls noShowCollect.
     */
    async noShowDeposit() {
        for (const f of [...this.#noShowsPending]) {
            const locker = this.#locker(f.locker);
            const parcel = await this.#book(locker.id, f.size, f.reference, 0).catch(() => null);
            if (!parcel)
                continue;
            this.#noShowsPending.splice(this.#noShowsPending.indexOf(f), 1);
            const drop = await visitLocker(locker, parcel.dropoff, parcel.compartmentId, { useQr: false });
            if (!drop.ok) {
                this.recorder.add('failed');
                this.#problems.push(`${f.reference}: deposit failed: ${drop.problem}`);
                continue;
            }
            if (drop.unlockMs !== undefined)
                this.recorder.latency('unlock', drop.unlockMs);
            this.recorder.add('deposited');
            this.#noShowsInLocker.push({ f, parcel, door: drop.door ?? parcel.compartmentId });
        }
        const until = Date.now() + 60_000;
        for (const { parcel } of this.#noShowsInLocker) {
            while ((await this.api.get(`/v1/parcels/${parcel.id}`)).status !== 'in_locker') {
                if (Date.now() > until) {
                    this.#problems.push('no-show parcels never reached the server as deposited');
                    break;
                }
                await sleep(100);
            }
        }
        return { deposited: this.#noShowsInLocker.length, pending: this.#noShowsPending.length };
    }
    /** After the pickup window passed: couriers collect the no-shows with their collection codes (they end returned). */
    async noShowCollect() {
        const batch = this.#noShowsInLocker;
        this.#noShowsInLocker = [];
        await Promise.all(batch.map(async ({ f, parcel, door }) => {
            const locker = this.#locker(f.locker);
            const code = await awaitCode(this.api, parcel.id, 'collection_code', 60_000, this.init.pollMs);
            if (!code)
                return void this.#problems.push(`${f.reference}: no collection code was issued`);
            const visit = await visitLocker(locker, code, door, { useQr: false });
            if (!visit.ok)
                return void this.#problems.push(`${f.reference}: collection failed: ${visit.problem}`);
            if (visit.unlockMs !== undefined)
                this.recorder.latency('unlock', visit.unlockMs);
            this.recorder.add('returned');
        }));
    }
    /** The no-shows that never found a free compartment. */
    noShowGiveUp() {
        for (const f of this.#noShowsPending)
            this.#problems.push(`${f.reference}: could not book at ${this.#locker(f.locker).id}`);
        this.recorder.add('failed', this.#noShowsPending.length);
        this.#noShowsPending = [];
    }
    /** Network cuts, the storm, forced doors and power cuts planned for this shard's lockers. */
    async runFaults(plan, t0) {
        const at = (ms) => sleep(t0 + ms - Date.now());
        const mine = (i) => this.lockers.get(i);
        await Promise.all([
            ...plan.outages.map(async (o) => {
                const l = mine(o.locker);
                if (!l)
                    return;
                await at(o.startMs);
                l.proxy.cut();
                await sleep(o.durationMs);
                l.proxy.restore();
            }),
            (async () => {
                if (!plan.storm)
                    return;
                await at(plan.storm.startMs);
                for (const l of this.lockers.values())
                    l.proxy.cut(); // a storm plans a proxy for every locker
                await sleep(plan.storm.downMs);
                for (const l of this.lockers.values())
                    l.proxy.restore();
            })(),
            ...plan.forcedOpens.map(async (o) => {
                const l = mine(o.locker);
                if (!l)
                    return;
                await at(o.atMs);
                await this.#forceOpen(l);
            }),
            ...plan.powerCuts.map(async (p) => {
                const l = mine(p.locker);
                if (!l?.powerCut)
                    return;
                await at(p.atMs);
                await l.powerCut(p.downMs);
                this.#powerCuts++;
            }),
        ]);
    }
    /** A vandal pulls an empty compartment's door open and pushes it shut (in the keypad queue, like a visit). */
    async #forceOpen(l) {
        const act = l.turn.then(async () => {
            const busy = this.#busy.get(l.id) ?? new Set();
            const free = l.hardware.compartments().find((c) => !busy.has(c.id) && !l.hardware.isDoorOpen(c.id) && !l.hardware.isReleased(c.id));
            if (!free)
                return;
            l.hardware.forceOpen(free.id);
            await sleep(200);
            l.hardware.closeDoor(free.id);
            this.#forcedOpens++;
        });
        l.turn = act.catch(() => undefined);
        await act;
    }
    async status() {
        return Promise.all([...this.lockers.values()].map(async (l) => ({ id: l.id, lastSeq: await l.lastSeq(), outbox: await l.outboxSize() })));
    }
    async collect() {
        const all = [...this.lockers.values()];
        const taps = all.flatMap((l) => (l.tap ? [l.tap] : []));
        return {
            devices: await Promise.all(all.map(async (l) => {
                const tap = l.tap;
                return { id: l.id, lastSeq: await l.lastSeq(), outbox: await l.outboxSize(), ...(tap ? { acceptedByJti: [...tap.acceptedByJti] } : {}) };
            })),
            parcelIds: [...this.#parcelIds],
            problems: [...this.#problems],
            codes: this.init.processes
                ? null
                : { accepted: taps.reduce((n, t) => n + (t.byType.get('code.accepted') ?? 0), 0), rejected: taps.reduce((n, t) => n + (t.byType.get('code.rejected') ?? 0), 0) },
            resent: all.reduce((n, l) => n + l.resent().events, 0),
            resentBatches: all.reduce((n, l) => n + l.resent().batches, 0),
            networkCuts: all.reduce((n, l) => n + l.proxy.cuts, 0),
            powerCuts: this.#powerCuts,
            forcedOpens: this.#forcedOpens,
            failovers: this.api.failovers,
        };
    }
    async stop() {
        await Promise.all([...this.lockers.values()].map((l) => l.stop().catch(() => undefined)));
    }
    #locker(index) {
        const l = this.lockers.get(index);
        if (!l)
            throw new Error(`locker ${index} is not in shard ${this.init.shard}`);
        return l;
    }
    #hold(lockerId, compartmentId) {
        const set = this.#busy.get(lockerId) ?? new Set();
        set.add(compartmentId);
        this.#busy.set(lockerId, set);
    }
    #release(lockerId, compartmentId) {
        this.#busy.get(lockerId)?.delete(compartmentId);
    }
}
//# sourceMappingURL=shard.js.map