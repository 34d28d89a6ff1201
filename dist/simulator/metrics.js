const LATENCY_KINDS = ['booking', 'unlock', 'commit'];
export const zeroCounts = () => ({ registered: 0, booked: 0, deposited: 0, pickedUp: 0, returned: 0, failed: 0, faulted: 0, committed: 0, readRetries: 0 });
/** Collects counts and latencies of one shard between ticks. */
export class Recorder {
    #counts = zeroCounts();
    #latencies = { booking: [], unlock: [], commit: [] };
    add(kind, n = 1) {
        this.#counts[kind] += n;
    }
    latency(kind, ms) {
        this.#latencies[kind].push(Math.round(ms * 10) / 10);
    }
    /** The counts and latencies since the last drain. */
    drain(connected, ready) {
        const m = process.memoryUsage();
        const tick = { counts: this.#counts, latencies: this.#latencies, connected, ready, memory: { rss: m.rss, heapUsed: m.heapUsed } };
        this.#counts = zeroCounts();
        this.#latencies = { booking: [], unlock: [], commit: [] };
        return tick;
    }
}
export function percentiles(samples) {
    if (samples.length === 0)
        return { count: 0, p50: null, p90: null, p99: null, max: null };
    const s = Float64Array.from(samples).sort();
    const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
    return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] };
}
/** Adds up the ticks of every shard: totals, all latency samples, per-process memory peaks, and a timeline. */
export class Aggregate {
    startedAt;
    totals = zeroCounts();
    samples = { booking: [], unlock: [], commit: [] };
    timeline = [];
    peakConnected = 0;
    memory = new Map();
    #connected = new Map();
    #ready = new Map();
    #bucket = { counts: zeroCounts(), latencies: { booking: [], unlock: [], commit: [] }, since: 0 };
    constructor(startedAt) {
        this.startedAt = startedAt;
        this.#bucket.since = startedAt;
    }
    /** Counts something that happened in the coordinating process itself (not in a shard). */
    count(kind, n = 1) {
        this.totals[kind] += n;
        this.#bucket.counts[kind] += n;
    }
    add(source, tick) {
        for (const k of Object.keys(tick.counts)) {
            this.totals[k] += tick.counts[k];
            this.#bucket.counts[k] += tick.counts[k];
        }
        for (const kind of LATENCY_KINDS) {
            for (const v of tick.latencies[kind]) {
                this.samples[kind].push(v);
                this.#bucket.latencies[kind].push(v);
            }
        }
        this.#connected.set(source, tick.connected);
        this.#ready.set(source, tick.ready);
        const connected = this.connected;
        if (connected > this.peakConnected)
            this.peakConnected = connected;
        if (tick.memory.rss === 0)
            return; // a shard in the main process: its memory is the main process's
        const m = this.memory.get(source) ?? { rssPeak: 0, heapPeak: 0 };
        this.memory.set(source, { rssPeak: Math.max(m.rssPeak, tick.memory.rss), heapPeak: Math.max(m.heapPeak, tick.memory.heapUsed) });
    }
    get connected() {
        return [...this.#connected.values()].reduce((a, b) => a + b, 0);
    }
    get ready() {
        return [...this.#ready.values()].reduce((a, b) => a + b, 0);
    }
    /** Closes the current timeline bucket (call about once a second). */
    sample(now, hour) {
        const b = this.#bucket;
        const secs = Math.max(0.001, (now - b.since) / 1000);
        const p = (kind) => percentiles(b.latencies[kind]);
        const stats = { booking: p('booking'), unlock: p('unlock'), commit: p('commit') };
        this.timeline.push({
            t: Math.round((now - this.startedAt) / 100) / 10,
            hour,
            bookingsPerSec: round1(b.counts.booked / secs),
            commitsPerSec: round1(b.counts.committed / secs),
            open: this.totals.booked - this.totals.pickedUp - this.totals.returned,
            connected: this.connected,
            p50: { booking: stats.booking.p50, unlock: stats.unlock.p50, commit: stats.commit.p50 },
            p90: { booking: stats.booking.p90, unlock: stats.unlock.p90, commit: stats.commit.p90 },
        });
        this.#bucket = { counts: zeroCounts(), latencies: { booking: [], unlock: [], commit: [] }, since: now };
    }
}
export const round1 = (n) => Math.round(n * 10) / 10;
//# sourceMappingURL=metrics.js.map