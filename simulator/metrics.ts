/** What the simulator measures, in real milliseconds (never the virtual clock, which jumps). */
export type LatencyKind = 'booking' | 'unlock' | 'commit';
const LATENCY_KINDS: readonly LatencyKind[] = ['booking', 'unlock', 'commit'];

export interface Counts {
  registered: number;
  booked: number;
  deposited: number;
  pickedUp: number;
  returned: number;
  failed: number;
  /** Parcels a planned fault (a jammed latch) kept from going through. */
  faulted: number;
  /** Events whose ack (sent by the server after the commit) reached the locker. */
  committed: number;
  /** API reads sent again after no server answered or one answered 502/503/504 (a server restarting). */
  readRetries: number;
}

export const zeroCounts = (): Counts => ({ registered: 0, booked: 0, deposited: 0, pickedUp: 0, returned: 0, failed: 0, faulted: 0, committed: 0, readRetries: 0 });

/** What one part of the fleet reports every second: counts since the last tick, latencies, connections, memory. */
export interface Tick {
  counts: Counts;
  latencies: Record<LatencyKind, number[]>;
  /** Lockers connected to the broker now. */
  connected: number;
  ready: number;
  memory: { rss: number; heapUsed: number };
}

/** Collects counts and latencies of one shard between ticks. */
export class Recorder {
  #counts = zeroCounts();
  #latencies: Record<LatencyKind, number[]> = { booking: [], unlock: [], commit: [] };

  add(kind: keyof Counts, n = 1): void {
    this.#counts[kind] += n;
  }

  latency(kind: LatencyKind, ms: number): void {
    this.#latencies[kind].push(Math.round(ms * 10) / 10);
  }

  /** The counts and latencies since the last drain. */
  drain(connected: number, ready: number): Tick {
    const m = process.memoryUsage();
    const tick: Tick = { counts: this.#counts, latencies: this.#latencies, connected, ready, memory: { rss: m.rss, heapUsed: m.heapUsed } };
    this.#counts = zeroCounts();
    this.#latencies = { booking: [], unlock: [], commit: [] };
    return tick;
  }
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] as number };
}

/** One point of the run's timeline (for the HTML charts). */
export interface TimelinePoint {
  /** Seconds since the run started (real). */
  t: number;
  /** Virtual hour of the traffic profile at that moment (null before traffic starts). */
  hour: number | null;
  bookingsPerSec: number;
  commitsPerSec: number;
  /** Parcels booked and not yet picked up or returned. */
  open: number;
  connected: number;
  p50: Record<LatencyKind, number | null>;
  p90: Record<LatencyKind, number | null>;
}

/** Adds up the ticks of every shard: totals, all latency samples, per-process memory peaks, and a timeline. */
export class Aggregate {
  readonly totals = zeroCounts();
  readonly samples: Record<LatencyKind, number[]> = { booking: [], unlock: [], commit: [] };
  readonly timeline: TimelinePoint[] = [];
  peakConnected = 0;
  readonly memory = new Map<string, { rssPeak: number; heapPeak: number }>();
  #connected = new Map<string, number>();
  #ready = new Map<string, number>();
  #bucket = { counts: zeroCounts(), latencies: { booking: [], unlock: [], commit: [] } as Record<LatencyKind, number[]>, since: 0 };

  constructor(private readonly startedAt: number) {
    this.#bucket.since = startedAt;
  }

  /** Counts something that happened in the coordinating process itself (not in a shard). */
  count(kind: keyof Counts, n = 1): void {
    this.totals[kind] += n;
    this.#bucket.counts[kind] += n;
  }

  add(source: string, tick: Tick): void {
    for (const k of Object.keys(tick.counts) as (keyof Counts)[]) {
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
    if (connected > this.peakConnected) this.peakConnected = connected;
    if (tick.memory.rss === 0) return; // a shard in the main process: its memory is the main process's
    const m = this.memory.get(source) ?? { rssPeak: 0, heapPeak: 0 };
    this.memory.set(source, { rssPeak: Math.max(m.rssPeak, tick.memory.rss), heapPeak: Math.max(m.heapPeak, tick.memory.heapUsed) });
  }

  get connected(): number {
    return [...this.#connected.values()].reduce((a, b) => a + b, 0);
  }

  get ready(): number {
    return [...this.#ready.values()].reduce((a, b) => a + b, 0);
  }

  /** Closes the current timeline bucket (call about once a second). */
  sample(now: number, hour: number | null): void {
    const b = this.#bucket;
    const secs = Math.max(0.001, (now - b.since) / 1000);
    const p = (kind: LatencyKind) => percentiles(b.latencies[kind]);
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

export const round1 = (n: number) => Math.round(n * 10) / 10;
