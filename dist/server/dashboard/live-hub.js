import { readUnresolvedAlarms } from '../alarms/alarm-views.js';
import { fleetTotals, readFleet } from './fleet-views.js';
/**
 * Collects changes and pushes at most one message per interval to every live subscriber. Two sources mark a
 * locker dirty: the change bus (device events committed, alarms acknowledged) and a poll-and-diff of each
 * locker's presence and desired-state version (heartbeats, online/offline, bookings, service changes), which
 * costs one narrow read of the lockers table per interval. Only dirty lockers are read again; only summaries
 * that really changed are sent. Nothing runs while nobody is subscribed.
 */
export class LiveHub {
    o;
    subscribers = new Set();
    summaries = new Map();
    alarms = new Map();
    presence = new Map();
    dirty = new Set();
    active = new Set();
    primed = false;
    timer;
    /** Priming, snapshots and pushes run one after another. */
    work = Promise.resolve();
    offBus;
    constructor(o) {
        this.o = o;
        this.offBus = o.bus.on((change) => {
            if (!this.primed)
                return;
            if (change.kind === 'locker')
                this.dirty.add(change.lockerId);
            else if (change.batch.applied > 0) {
                this.dirty.add(change.batch.lockerId);
                this.active.add(change.batch.lockerId);
            }
        });
    }
    get subscriberCount() {
        return this.subscribers.size;
    }
    /** Adds a subscriber; it gets a snapshot first, then updates. Returns a function that removes it. */
    subscribe(send) {
        this.subscribers.add(send);
        this.serially(async () => {
            if (!this.subscribers.has(send))
                return;
            if (!this.primed)
                await this.prime();
            const lockers = [...this.summaries.values()].map((s) => s.view);
            const alarms = [...this.alarms.values()].flatMap((a) => a.items);
            send('snapshot', { at: this.o.now(), totals: fleetTotals(lockers), lockers, alarms });
        });
        if (!this.timer) {
            this.timer = setInterval(() => this.serially(() => this.push()), this.o.intervalMs);
            this.timer.unref();
        }
        return () => {
            this.subscribers.delete(send);
            if (this.subscribers.size === 0)
                this.idle();
        };
    }
    close() {
        this.subscribers.clear();
        this.idle();
        this.offBus();
    }
    /** Nobody listens: stop the timer and forget the cache (the next subscriber primes it afresh). */
    idle() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
        this.serially(async () => {
            if (this.subscribers.size > 0)
                return;
            this.primed = false;
            this.summaries.clear();
            this.alarms.clear();
            this.presence.clear();
            this.dirty.clear();
            this.active.clear();
        });
    }
    serially(job) {
        this.work = this.work.then(job).catch((err) => this.o.log.error({ err }, 'live dashboard update failed'));
    }
    async prime() {
        this.primed = true;
        await this.pollPresence();
        this.dirty.clear();
        for (const view of await readFleet(this.o.db))
            this.summaries.set(view.id, { view, json: JSON.stringify(view) });
        const alarms = await readUnresolvedAlarms(this.o.db);
        for (const a of alarms)
            if (this.summaries.has(a.lockerId))
                this.alarmsOf(a.lockerId).items.push(a);
        for (const entry of this.alarms.values())
            entry.json = JSON.stringify(entry.items);
    }
    alarmsOf(lockerId) {
        let entry = this.alarms.get(lockerId);
        if (!entry)
            this.alarms.set(lockerId, (entry = { items: [], json: '[]' }));
        return entry;
    }
    /** Marks lockers whose presence or desired-state version moved since the last look. */
    async pollPresence() {
        const rows = await this.o.db.selectFrom('lockers').select(['id', 'online', 'last_seen_at', 'desired_version', 'reported_version']).execute();
        for (const r of rows) {
            const sig = `${r.online}|${r.last_seen_at ?? ''}|${r.desired_version}|${r.reported_version}`;
            if (this.presence.get(r.id) !== sig) {
                this.presence.set(r.id, sig);
                this.dirty.add(r.id);
            }
        }
    }
    async push() {
        if (!this.primed || this.subscribers.size === 0)
            return;
        await this.pollPresence();
        const ids = [...this.dirty];
        this.dirty.clear();
        const activity = [...this.active];
        this.active.clear();
        if (ids.length === 0 && activity.length === 0)
            return;
        const lockers = [];
        for (const view of await readFleet(this.o.db, ids)) {
            const json = JSON.stringify(view);
            if (this.summaries.get(view.id)?.json === json)
                continue;
            this.summaries.set(view.id, { view, json });
            lockers.push(view);
        }
        const fresh = new Map(ids.map((id) => [id, []]));
        for (const a of await readUnresolvedAlarms(this.o.db, ids))
            fresh.get(a.lockerId)?.push(a);
        const alarmLockers = [];
        const alarmItems = [];
        for (const [lockerId, items] of fresh) {
            const json = JSON.stringify(items);
            if ((this.alarms.get(lockerId)?.json ?? '[]') === json)
                continue;
            this.alarms.set(lockerId, { items, json });
            alarmLockers.push(lockerId);
            alarmItems.push(...items);
        }
        if (lockers.length === 0 && alarmLockers.length === 0 && activity.length === 0)
            return;
        const update = {
            at: this.o.now(),
            totals: fleetTotals([...this.summaries.values()].map((s) => s.view)),
            lockers,
            alarms: { lockerIds: alarmLockers, items: alarmItems },
            activity,
        };
        for (const send of this.subscribers)
            send('update', update);
    }
}
//# sourceMappingURL=live-hub.js.map