import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { FleetCredential } from './credentials.js';
import { fakeCredentials } from './events.js';
import { clientConnectSlots, clientNice, registerLockers, serverWindow, startFleet, startHost, type BenchContext, type Host } from './harness.js';
import { openFileLimit, type BenchChild } from './ipc.js';
import { fleetBookings, type FleetBookings } from './fleet-bookings.js';
import { eventsWindow, type FleetEvents } from './fleet-events.js';
import { powerCut, type FleetStorm } from './fleet-storm.js';
import type { ConnectResult, FleetStats } from './mqtt-fleet.js';
import { startRedis } from './redis-server.js';
import { mib, ratio, round, say, sleep } from './stats.js';

/** Lockers per client process: well under the 20,000 open files of a process. */
const PER_CLIENT_PROCESS = 15_000;
const CATCH_UP_MS = 60_000;
const IN_FLIGHT = 400;

/**
 * Keepalive of the fleet's lockers: twice the heartbeat period, at least the agent's 30 s. At 30 s, 170,000 idle
 * lockers would send 5,700 PINGREQs a second for nothing; a heartbeat is itself traffic that keeps the link alive.
 */
const keepaliveFor = (heartbeatMs: number) => Math.min(65_535, Math.max(30, Math.round((2 * heartbeatMs) / 1000)));

/**
 * Sockets per loopback source address (docs/scale.md, "source ports"). Linux gives connect() the even half of
 * ip_local_port_range (32768–60999) first: past ~14,000 sockets to one server port every further connect scanned
 * the whole range, 700 µs of kernel time each instead of 30 µs on this machine, and a power cut's reconnects
 * stalled the bench's own clients. Spread over addresses of 1,000 sockets each, the search stays short.
 */
const SOCKETS_PER_SOURCE_ADDRESS = 1_000;

export interface FleetSide {
  processes: number;
  /**
   * Lockers connected at the end of the hold: the smaller of what the light lockers say (connected) and what the
   * servers count (connections signed in); either alone can count a connection twice or one already gone.
   */
  held: number;
  /** The two counts `held` is the smaller of, when they differ (both as read at the end of the hold). */
  counted?: { byClients: number; byServers: number };
  /** Lockers that did not connect within the bound, or whose connection was gone at the end. */
  lost: number;
  connectSec: number;
  connectsPerSec: number;
  /** Lockers whose heartbeat the deployment recorded during and just after the hold (Lockstep; -1 for bare aedes). */
  heartbeatsRecorded: number;
  /** Σ (RSS after − RSS before the clients) over the server processes / held lockers. */
  kibPerLocker: number;
  rssMiB: number[];
  /** `events --fleet`: events committed across the deployment while the fleet is held. */
  events?: FleetEvents;
  /** `storm --fleet`: the power cut after the hold. */
  storm?: FleetStorm;
}

export interface FleetConnectionsResult {
  fleet: number;
  processes: number;
  heartbeatMs: number;
  held: number;
  lost: number;
  lockstep: FleetSide;
  /** Absent with --no-bare (then so are the ratios to it). */
  bareAedes?: FleetSide;
  ratios: { heldVsBare?: number; connectRateVsBare?: number; memoryVsBare?: number; eventsVsBare?: number; stormVsBare?: number };
  /** `bookings --fleet`: POST /v1/parcels across the deployment, before the lockers connect (bench/fleet-bookings.ts). */
  bookings?: FleetBookings;
  openFileLimit: number;
}

export interface FleetOptions {
  fleet: number;
  processes?: number;
  /** Heartbeat period of the lockers and the server (default 30 s; 5 s with --quick). */
  heartbeatSec?: number;
  /** Bound of the connects (and of a storm's reconnects) on each side; default below. */
  boundSec?: number;
  /** How long the storm may go without movement before it is called stalled (bench/fleet-storm.ts; default 120 s). */
  stallSec?: number;
  /** Events each locker records during the power cut (`storm --fleet`); none: no cut. */
  stormPerLocker?: number;
  /** `events --fleet`: an events window while the fleet is held. */
  events?: boolean;
  /** `bookings --fleet`: a bookings window across the deployment's processes. */
  bookings?: boolean;
  /** --no-bare: Lockstep's side alone (no raw limit: for runs about the storm's absolute targets, at half the time). */
  noBare?: boolean;
}

/** Connects `creds` to the hosts (an equal share each), over client processes of PER_CLIENT_PROCESS lockers. */
async function connectAll(hosts: Host[], creds: FleetCredential[], o: { heartbeatMs: number; boundMs: number; lockstep: boolean; label: string }): Promise<{ fleets: BenchChild[]; connected: number; ms: number }> {
  const fleets: BenchChild[] = [];
  const jobs: Promise<ConnectResult>[] = [];
  const share = Math.ceil(creds.length / hosts.length);
  // Each client process binds its sockets to addresses of its own, 127.1.<process>.<n>, at most
  // SOCKETS_PER_SOURCE_ADDRESS each: the kernel's search for a free source port stays short (a single bound address
  // with 10,000 sockets had fallen to 866 connects/s; one unbound destination breaks down past ~14,000). Linux
  // answers on all of 127.0.0.0/8; a system with 127.0.0.1 alone (macOS) cannot run --fleet.
  let address = 2;
  const connectSlots = clientConnectSlots();
  for (const [h, host] of hosts.entries()) {
    const mine = creds.slice(h * share, (h + 1) * share);
    for (let at = 0; at < mine.length; at += PER_CLIENT_PROCESS) {
      const count = Math.min(PER_CLIENT_PROCESS, mine.length - at);
      const localAddresses = Array.from({ length: Math.ceil(count / SOCKETS_PER_SOURCE_ADDRESS) }, (_, i) => `127.1.${address}.${i + 1}`);
      const fleet = await startFleet(
        { host: '127.0.0.1', port: host.mqttPort, ack: o.lockstep ? 'server' : 'puback', heartbeatMs: o.heartbeatMs, keepaliveSec: keepaliveFor(o.heartbeatMs), ackTimeoutMs: 15_000, seed: 300 + address, localAddresses, connectSlots },
        `${o.label} clients ${fleets.length + 1}`,
      );
      fleets.push(fleet);
      address++;
      await fleet.request('add', { lockers: mine.slice(at, at + PER_CLIENT_PROCESS) });
    }
  }
  const t0 = Date.now();
  // About 400 connects in flight over the whole fleet: 12 client processes × 200 each (the single-process bench's
  // figure) left connects waiting past their 30 s timeout on two cores, and the retries crowded out the rest.
  const concurrency = Math.max(20, Math.ceil(IN_FLIGHT / fleets.length));
  for (const f of fleets) jobs.push(f.request<ConnectResult>('connect', { concurrency, timeoutMs: o.boundMs }));
  const results = await Promise.all(jobs);
  return { fleets, connected: results.reduce((n, r) => n + r.connected, 0), ms: Date.now() - t0 };
}

async function side(ctx: BenchContext, label: string, hosts: Host[], creds: FleetCredential[], o: { heartbeatMs: number; boundMs: number; lockstep: boolean; stormPerLocker?: number; stallMs?: number; events?: boolean }): Promise<FleetSide> {
  const rss0 = await Promise.all(hosts.map((h) => h.memory().then((m) => m.rss)));
  // With --profile: the first Lockstep process's CPU profile over the connects (what a connect costs the server);
  // with events, another over the events window (bench/fleet-events.ts).
  const profiled = ctx.profileDir !== undefined && o.lockstep ? serverWindow(ctx, hosts[0] as Host, 0) : undefined;
  await profiled?.opened;
  const c = await connectAll(hosts, creds, { ...o, label });
  const connectWindow = await profiled?.close();
  if (connectWindow) say(`  ${label}: first process's CPU over the connects ${round(connectWindow.cpu * 100)} % of a core`);
  say(`  ${label}: ${c.connected} of ${creds.length} connected in ${round(c.ms / 1000, 1)} s over ${hosts.length} processes and ${c.fleets.length} client processes`);
  const holdStart = Date.now();
  await sleep(o.heartbeatMs + 3000);
  let heartbeatsRecorded = -1;
  if (o.lockstep) {
    // Postgres is shared: any process counts the lockers the whole deployment saw since the hold began.
    const seen = () => (hosts[0] as Host).child.request<number>('seenSince', { since: holdStart });
    heartbeatsRecorded = await seen();
    for (const until = Date.now() + CATCH_UP_MS; heartbeatsRecorded < c.connected * 0.99 && Date.now() < until; ) {
      await sleep(1000);
      heartbeatsRecorded = await seen();
    }
  }
  const [byServers, byClients] = await Promise.all([
    Promise.all(hosts.map((h) => h.stats())).then((all) => all.reduce((n, s) => n + s.connected, 0)),
    Promise.all(c.fleets.map((f) => f.request<FleetStats>('stats'))).then((all) => all.reduce((n, s) => n + s.connected, 0)),
  ]);
  const connectedNow = Math.min(byServers, byClients);
  const mem = await Promise.all(hosts.map((h) => h.memory()));
  const grown = mem.reduce((n, m, i) => n + (m.rss - (rss0[i] ?? 0)), 0);
  const events = o.events ? await eventsWindow(ctx, label, hosts, c.fleets, { lockstep: o.lockstep, warmupMs: 2000, windowMs: 8000 }) : undefined;
  const storm = o.stormPerLocker ? await powerCut(ctx, label, hosts, c.fleets, { perLocker: o.stormPerLocker, boundMs: o.boundMs, lockstep: o.lockstep, ...(o.stallMs ? { stallMs: o.stallMs } : {}) }) : undefined;
  await Promise.all([...hosts.map((h) => h.child.kill()), ...c.fleets.map((f) => f.kill())]);
  const result: FleetSide = {
    processes: hosts.length,
    held: connectedNow,
    ...(byServers !== byClients ? { counted: { byClients, byServers } } : {}),
    lost: creds.length - connectedNow,
    connectSec: round(c.ms / 1000, 1),
    connectsPerSec: c.ms > 0 ? round(c.connected / (c.ms / 1000)) : 0,
    heartbeatsRecorded,
    kibPerLocker: connectedNow > 0 ? round(grown / 1024 / connectedNow, 1) : 0,
    rssMiB: mem.map((m) => mib(m.rss)),
    ...(events ? { events } : {}),
    ...(storm ? { storm } : {}),
  };
  const counts = result.counted ? ` (the smaller of ${result.counted.byClients} by the clients and ${result.counted.byServers} by the servers)` : '';
  say(`  ${label}: held ${result.held}${counts}, lost ${result.lost}, ${result.connectsPerSec} connects/s, heartbeats recorded ${heartbeatsRecorded}, ${result.kibPerLocker} KiB/locker (RSS ${result.rssMiB.join(' + ')} MiB)`);
  return result;
}

/**
 * `npm run bench -- connections [events] [storm] [bookings] --fleet N [--processes P] [--heartbeat-sec S]`: one deployment of P server processes (default: one per
 * 15,000 lockers, at least 2) on one Postgres (DATABASE_URL, required: run it under `tsx test/helpers/with-postgres.ts`)
 * and one Redis (started here) holding N light lockers with heartbeats; against P bare aedes processes holding the
 * same number of clients. Each process listens on its own port and gets an equal share (the cluster module's
 * round-robin on one port spreads them the same way, through one more hop in the primary). After the hold, on each
 * side: with `events` an events window (bench/fleet-events.ts), with `storm` a power cut of the whole fleet
 * (bench/fleet-storm.ts); with `bookings`, before the Lockstep lockers connect, a bookings window across the
 * processes (bench/fleet-bookings.ts).
 */
export async function benchFleet(ctx: BenchContext, o: FleetOptions): Promise<FleetConnectionsResult> {
  const { fleet } = o;
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('connections --fleet needs DATABASE_URL (Postgres): npx tsx test/helpers/with-postgres.ts npm run bench -- connections --fleet N');
  const processes = o.processes ?? Math.max(2, Math.ceil(fleet / PER_CLIENT_PROCESS));
  const heartbeatMs = (o.heartbeatSec ?? (ctx.quick ? 5 : 30)) * 1000;
  // Connects (and the storm's reconnects) bounded to at least 2 or 4 minutes, and to 10 ms per locker for big fleets
  // (--bound-sec sets it: 10 ms per locker was too short for 170,000 on two cores, docs/scale.md).
  const boundMs = o.boundSec ? o.boundSec * 1000 : Math.max(ctx.quick ? 120_000 : 240_000, fleet * 10);
  const stormPerLocker = o.stormPerLocker;
  const extra = { ...(stormPerLocker ? { stormPerLocker } : {}), ...(o.stallSec ? { stallMs: o.stallSec * 1000 } : {}), ...(o.events ? { events: true } : {}) };
  say(
    `--fleet ${fleet}: ${processes} server processes, Postgres + Redis, heartbeat every ${heartbeatMs / 1000} s, connects bounded to ${boundMs / 1000} s` +
      (clientNice() > 0 ? `, client processes at nice ${clientNice()} (BENCH_CLIENT_NICE)` : '') +
      (clientConnectSlots() > 0 ? `, at most ${clientConnectSlots()} lockers connecting at once per client process (BENCH_CLIENT_CONNECTS)` : '') +
      (o.events ? ', then an events window' : '') +
      (stormPerLocker ? `, then a power cut with ${stormPerLocker} events per locker` : ''),
  );

  let bareAedes: FleetSide | undefined;
  if (!o.noBare) {
    const bareHosts = await Promise.all(Array.from({ length: processes }, (_, i) => startHost(ctx, { kind: 'aedes', mqttPort: 0 }, `fleet-bare-${i}`)));
    bareAedes = await side(ctx, 'bare aedes', bareHosts, fakeCredentials(fleet), { heartbeatMs, boundMs, lockstep: false, ...extra });
  } else say('  --no-bare: Lockstep alone, no bare aedes side to compare with');

  const redis = await startRedis();
  try {
    const dataDir = path.join(ctx.tmp, 'fleet');
    const config = { kind: 'lockstep' as const, dataDir, port: 0, mqttPort: 0, logLevel: 'warn', databaseUrl, redisUrl: redis.url, heartbeatMs };
    // The first process makes the secrets and runs the migrations; it also registers the fleet.
    const first = await startHost(ctx, config, 'fleet-0');
    const t0 = Date.now();
    const creds = await registerLockers(first, fleet, [{ id: 'A1', size: 'S' }, { id: 'B1', size: 'M' }]);
    say(`  registered and enrolled ${fleet} lockers in ${round((Date.now() - t0) / 1000, 1)} s`);
    const hosts = [first, ...(await Promise.all(Array.from({ length: processes - 1 }, (_, i) => startHost(ctx, config, `fleet-${i + 1}`))))];
    const bookings = o.bookings ? await fleetBookings(ctx, hosts, { cores: availableParallelism() }) : undefined;
    const lockstep = await side(ctx, 'Lockstep', hosts, creds, { heartbeatMs, boundMs, lockstep: true, ...extra });
    return {
      fleet,
      processes,
      heartbeatMs,
      held: lockstep.held,
      lost: lockstep.lost,
      lockstep,
      bareAedes,
      ratios: bareAedes
        ? {
            heldVsBare: ratio(lockstep.held, bareAedes.held),
            connectRateVsBare: ratio(lockstep.connectsPerSec, bareAedes.connectsPerSec),
            memoryVsBare: ratio(bareAedes.kibPerLocker, lockstep.kibPerLocker),
            ...(lockstep.events && bareAedes.events ? { eventsVsBare: ratio(lockstep.events.eventsPerSec, bareAedes.events.eventsPerSec) } : {}),
            // Time to absorb the power cut: bare aedes' (reconnect, PUBACK) over Lockstep's (reconnect, commit, ack).
            ...(lockstep.storm && bareAedes.storm && lockstep.storm.absorbMs > 0 && bareAedes.storm.absorbMs > 0 ? { stormVsBare: ratio(bareAedes.storm.absorbMs, lockstep.storm.absorbMs) } : {}),
          }
        : {},
      ...(bookings ? { bookings } : {}),
      openFileLimit: openFileLimit(),
    };
  } finally {
    await redis.stop();
  }
}
