/**
 * Child-process entry: a fleet of light lockers (bench/light-locker.ts) in a process of its own, so the client
 * side of a benchmark never shares the server's event loop. Driven by requests from bench/run.ts.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import pLimit from 'p-limit';
import { seededRandom } from '../simulator/random.js';
import type { FleetCredential } from './credentials.js';
import { childConfig, note, serve } from './ipc.js';
import { profilingHandlers } from './profiler.js';
import { LightLocker } from './light-locker.js';
import { percentiles, type Percentiles } from './stats.js';

export interface FleetConfig {
  host: string;
  port: number;
  ack: 'server' | 'puback';
  heartbeatMs: number;
  keepaliveSec?: number;
  ackTimeoutMs: number;
  seed: number;
  /** Source addresses to spread connections over (each has its own ~28,000 ephemeral ports). */
  localAddresses?: string[];
  /** At most so many of this process's lockers connecting at once (BENCH_CLIENT_CONNECTS; 0 or unset: no limit). */
  connectSlots?: number;
}

export interface FleetStats {
  lockers: number;
  connected: number;
  sent: number;
  acked: number;
  resent: number;
  /** Connects refused with CONNACK 3 "server unavailable" (the server's sign-in gate). */
  busy: number;
  /** Connects tried, and those that got no CONNACK within the connect timeout. */
  attempts: number;
  timeouts: number;
  /** Connects closed with neither a CONNACK nor an error (the server's sign-in timeout closes them so). */
  dropped: number;
  /** Connects that waited for one of the process's connect slots, and how many wait now. */
  slotWaits: number;
  slotLine: number;
  outbox: number;
  heartbeats: number;
  snapshots: number;
  subscriber: { messages: number; bytes: number };
  rss: number;
}

export interface ConnectResult {
  connected: number;
  /** Not connected within the time allowed (then stopped, so they do not connect during the hold). */
  failed: number;
  ms: number;
  /** Milliseconds until 10 %, 20 %, … 100 % of the lockers had connected (-1: never). */
  deciles: number[];
}

const config = childConfig<FleetConfig>();
const random = seededRandom(config.seed);
const slots = config.connectSlots ? { run: pLimit(config.connectSlots), size: config.connectSlots } : undefined;
const lockers: LightLocker[] = [];
const subscriber = { messages: 0, bytes: 0, client: undefined as MqttClient | undefined };

function stats(): FleetStats {
  const s: FleetStats = {
    lockers: lockers.length,
    connected: 0,
    sent: 0,
    acked: 0,
    resent: 0,
    busy: 0,
    attempts: 0,
    timeouts: 0,
    dropped: 0,
    slotWaits: 0,
    slotLine: slots?.run.pendingCount ?? 0,
    outbox: 0,
    heartbeats: 0,
    snapshots: 0,
    subscriber: { messages: subscriber.messages, bytes: subscriber.bytes },
    rss: process.memoryUsage().rss,
  };
  for (const l of lockers) {
    if (l.connected) s.connected++;
    s.sent += l.stats.sent;
    s.acked += l.stats.acked;
    s.resent += l.stats.resent;
    s.busy += l.stats.busy;
    s.attempts += l.stats.attempts;
    s.timeouts += l.stats.timeouts;
    s.dropped += l.stats.dropped;
    s.slotWaits += l.stats.slotWaits;
    s.outbox += l.outbox;
    s.heartbeats += l.stats.heartbeats;
    s.snapshots += l.stats.snapshots;
  }
  return s;
}

/** Starts every locker not started yet, `concurrency` connects in flight at a time. */
async function connectAll(concurrency: number, timeoutMs: number): Promise<ConnectResult> {
  const started = Date.now();
  const todo = lockers.filter((l) => !l.ever);
  let next = 0;
  let done = 0;
  const progress = setInterval(() => note({ note: 'progress', what: 'connected', done, total: todo.length }), 1000);
  const end = started + timeoutMs;
  const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
  const worker = async () => {
    for (;;) {
      if (Date.now() >= end) return;
      const l = todo[next++];
      if (!l) return;
      await Promise.race([l.start(), deadline]);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  clearInterval(progress);
  const late = todo.filter((l) => !l.ever);
  await Promise.all(late.map((l) => l.stop()));
  const times = todo
    .map((l) => l.connectTimes[0])
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const deciles = Array.from({ length: 10 }, (_, k) => {
    const t = times[Math.ceil(((k + 1) / 10) * todo.length) - 1];
    return t === undefined ? -1 : t - started;
  });
  return { connected: times.length, failed: late.length, ms: (times[times.length - 1] ?? Date.now()) - started, deciles };
}

async function waitDrained(timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (lockers.every((l) => l.outbox === 0)) return true;
    const s = stats();
    note({ note: 'progress', what: 'drain', done: s.acked, outbox: s.outbox, connected: s.connected, total: s.lockers });
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

serve({
  ...profilingHandlers(),
  add: async (m) => {
    const creds = m.lockers as FleetCredential[];
    const addresses = config.localAddresses ?? [];
    for (const c of creds) {
      const localAddress = addresses.length ? addresses[lockers.length % addresses.length] : undefined;
      lockers.push(
        new LightLocker({
          lockerId: c.lockerId,
          key: c.key,
          host: config.host,
          port: config.port,
          ack: config.ack,
          heartbeatMs: config.heartbeatMs,
          ...(config.keepaliveSec ? { keepaliveSec: config.keepaliveSec } : {}),
          ackTimeoutMs: config.ackTimeoutMs,
          random,
          ...(slots ? { slots } : {}),
          ...(localAddress ? { localAddress } : {}),
        }),
      );
    }
    return lockers.length;
  },
  connect: async (m) => connectAll(Number(m.concurrency ?? 200), Number(m.timeoutMs ?? 120_000)),
  stats: async () => stats(),
  /** Closed loop of `batch` events per locker; `lockers`: only the first so many of this process (default all). */
  pump: async (m) => {
    for (const l of lockers.slice(0, m.lockers === undefined ? lockers.length : Number(m.lockers))) l.pump(Number(m.batch));
    return null;
  },
  /** Starts every locker without waiting (the server may be down: they back off and retry) and records a backlog. */
  launch: async (m) => {
    for (const l of lockers) {
      void l.start();
      l.record(Number(m.perLocker));
    }
    return stats().outbox;
  },
  /** Every locker loses power at once (bench/fleet.ts, storm): returns the events now waiting in the outboxes. */
  cut: async (m) => {
    for (const l of lockers) if (l.connected) l.cut(Number(m.perLocker));
    return stats().outbox;
  },
  /** Milliseconds from `since` (ms since the epoch) to each locker's first connection after it. */
  reconnects: async (m) => {
    const since = Number(m.since);
    return lockers.map((l) => l.connectTimes.find((t) => t >= since)).filter((t): t is number => t !== undefined).map((t) => t - since);
  },
  record: async (m) => {
    for (const l of lockers) l.record(Number(m.perLocker));
    return stats().outbox;
  },
  /** Waits until every outbox is empty; reconnect times are counted from `since` (ms since the epoch). */
  drain: async (m) => {
    const since = Number(m.since);
    const drained = await waitDrained(Number(m.timeoutMs));
    const firstBack = lockers.map((l) => l.connectTimes.find((t) => t >= since)).filter((t): t is number => t !== undefined);
    const reconnect: Percentiles = percentiles(firstBack.map((t) => t - since));
    return { drained, reconnected: firstBack.length, reconnect, drainedAt: Date.now(), ...stats() };
  },
  /** One subscriber for the bare-broker runs: receives every event batch with QoS 1 and counts it. */
  subscribe: async (m) => {
    const client = await connectAsync(`mqtt://${config.host}:${config.port}`, { clientId: 'bench-subscriber', protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    client.on('message', (_topic, payload) => {
      subscriber.messages++;
      subscriber.bytes += payload.length;
    });
    await client.subscribeAsync(String(m.filter), { qos: 1 });
    subscriber.client = client;
    return null;
  },
  stop: async () => {
    await Promise.all(lockers.map((l) => l.stop()));
    await subscriber.client?.endAsync(true).catch(() => undefined);
  },
});
