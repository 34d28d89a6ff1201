import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, makeConfig, type LockstepServer } from '../server/index.js';
import type { LockerView } from '../shared/api/lockers.js';
import { ApiClient } from '../client/http-client.js';
import { checkInvariants, keepBooks, type DeviceRecord, type ParcelWithHistory } from './checker.js';
import { stableSnapshot } from './check-snapshot.js';
import { runCrashes } from './faults.js';
import { Aggregate, zeroCounts, type Tick } from './metrics.js';
import { planFaults, planFlows, profileMs, type FaultPlan, type RunSpec } from './plan.js';
import { buildReport, type SimulationReport } from './report.js';
import { resolveSpec, type SimulationOptions } from './run-spec.js';
import { localShard, workerShard, type ShardHandle } from './shard-host.js';
import type { DeviceSummary, ShardInit, ShardResult } from './shard.js';
import { seededRandom } from './random.js';
import { VirtualClock } from './virtual-clock.js';
// Firmware rollouts (issue 19):
import { failingLockers, runFirmwareRollout, simulatedVendor, type RolloutOutcome } from './firmware-rollout.js';

export type { SimulationOptions } from './run-spec.js';
export type { SimulationReport } from './report.js';

export interface Progress {
  phase: 'registering' | 'traffic' | 'no-shows' | 'converging' | 'checking';
  lockers: number;
  registered: number;
  connected: number;
  booked: number;
  deposited: number;
  pickedUp: number;
  returned: number;
  failed: number;
  faulted: number;
  total: number;
  /** Virtual hour of the traffic profile, while it runs. */
  hour: number | null;
  hours: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * How long the agent waits for a released door to open before pulsing again (twice unanswered = jammed). Short in
 * small runs so a planned jam costs a courier seconds, not a minute; the default where a busy machine may lag.
 */
const DOOR_OPEN_TIMEOUT_MS = (spec: RunSpec) => (spec.lockers <= 500 ? 8000 : 30_000);

/**
 * Runs lockers, couriers and recipients against a server as a scenario (or the flags) says: the fleet is
 * registered and started (split over child processes when big), every parcel is booked, deposited and picked up
 * on the planned virtual hour, faults are injected, then the fleet converges and the invariants are checked.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationReport> {
  const spec = resolveSpec(o);
  const started = Date.now();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-sim-'));
  const deviceDir = deviceStoreDir(workDir);
  // Server and in-process agents share a clock the simulator moves forward (an hour in seconds); shards in child
  // processes get every move, and agents also follow the server time in every sync message.
  const clock = new VirtualClock();
  // Firmware rollouts (issue 19): the simulator plays the vendor; the server and the lockers trust its key.
  const vendor = spec.firmwareRollout ? simulatedVendor() : undefined;
  const failing = spec.firmwareRollout ? failingLockers(spec.lockers, spec.firmwareRollout.failShare, spec.seed) : [];
  if (spec.noShow > 0 && o.server) throw new Error('--no-show moves the server clock: run it with the in-process server');
  const aggregate = new Aggregate(started);
  const shards: ShardHandle[] = [];
  let server: LockstepServer | undefined;
  let phase: Progress['phase'] = 'registering';
  let hour: number | null = null;
  const progress = (): Progress => ({
    phase,
    lockers: spec.lockers,
    registered: aggregate.totals.registered,
    connected: aggregate.connected,
    booked: aggregate.totals.booked,
    deposited: aggregate.totals.deposited,
    pickedUp: aggregate.totals.pickedUp,
    returned: aggregate.totals.returned,
    failed: aggregate.totals.failed,
    faulted: aggregate.totals.faulted,
    total: spec.parcels,
    hour,
    hours: spec.hourly.length,
  });
  const onTick = (source: string, tick: Tick) => aggregate.add(source, tick);
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    aggregate.add('main', { counts: zeroCounts(), latencies: { booking: [], unlock: [], commit: [] }, connected: 0, ready: 0, memory: { rss: m.rss, heapUsed: m.heapUsed } });
    aggregate.sample(Date.now(), hour);
    o.onProgress?.(progress());
  }, 1000);
  try {
    let servers: string[];
    let token: string;
    if (o.server) {
      if (!o.token) throw new Error('--server needs --token (or LOCKSTEP_TOKEN)');
      servers = o.server.split(',').map((s) => s.trim()).filter(Boolean);
      token = o.token;
    } else {
      const config = makeConfig({
        port: 0,
        mqttPort: 0,
        dataDir: path.join(workDir, 'server'),
        logLevel: 'silent',
        doorOpenTimeoutMs: DOOR_OPEN_TIMEOUT_MS(spec),
        // Ten thousand heartbeats every 30 s would be most of the server's work here; the sync itself is unchanged.
        ...(spec.lockers > 1000 ? { heartbeatMs: 300_000 } : {}),
        // Virtual hours pass faster than heartbeats come: every locker would look silent after each jump.
        ...(spec.hourMs > 0 ? { lockerOfflineAlarmSec: 7 * 24 * 3600 } : {}),
        ...(vendor ? { firmwarePublicKey: vendor.x, firmwareResendSec: 5 } : {}),
      });
      server = await createServer(config, { clock });
      const { httpUrl } = await server.start();
      servers = [httpUrl];
      token = server.adminToken;
    }
    const api = new ApiClient(servers, token, { onReadRetry: () => aggregate.count('readRetries') });

    // ---- the fleet ------------------------------------------------------------------------------------------
    const random = seededRandom(spec.seed);
    const lockerSeeds = Array.from({ length: spec.lockers }, (_, i) => ({
      index: i,
      name: `${spec.name === 'flags' ? 'Sim' : spec.name} locker ${i + 1}`,
      lat: 52.2 + random() / 10,
      lon: 21 + random() / 10,
      seed: spec.seed * 1000 + i,
    }));
    const flows = planFlows(spec);
    const faults = planFaults(spec);
    // Big fleets: only lockers with a planned outage get a proxy (three open files and the copying saved).
    const proxied = spec.lockers <= 500 || faults.storm ? 'all' : [...new Set(faults.outages.map((o) => o.locker))];
    const shardCount = Math.max(1, spec.workers);
    const shardOf = (locker: number) => locker % shardCount;
    for (let s = 0; s < shardCount; s++) {
      const init: ShardInit = {
        shard: s,
        servers,
        token,
        lockers: lockerSeeds.filter((l) => shardOf(l.index) === s),
        compartments: spec.compartments,
        processes: spec.processes,
        workDir: deviceDir,
        registerConcurrency: spec.lockers > 100 ? 6 : 4,
        startJitterMs: spec.lockers > 1000 ? 2000 : 0,
        pollMs: spec.lockers > 100 ? 250 : 50,
        ackTimeoutMs: spec.lockers > 500 ? 10_000 : 2000,
        // Two unanswered pulses before the agent calls the latch jammed and opens another compartment.
        jamWaitMs: o.server ? 70_000 : 2 * DOOR_OPEN_TIMEOUT_MS(spec) + 5000,
        proxied: proxied === 'all' ? 'all' : proxied.filter((i) => shardOf(i) === s),
        ...(vendor ? { firmware: { publicKey: vendor.x, failing } } : {}),
      };
      shards.push(spec.workers > 0 ? workerShard(init, clock, onTick) : localShard(init, clock, onTick));
    }
    const registerFrom = Date.now();
    await Promise.all(shards.map((s) => s.start()));
    const registerMs = Date.now() - registerFrom;
    const registerProblems: string[] = [];
    await waitFor(() => aggregate.ready >= spec.lockers, 60_000 + spec.lockers * 30, 'lockers never received their configuration', 500).catch((err: Error) =>
      registerProblems.push(`${err.message}: ${aggregate.ready} of ${spec.lockers} ready after registration`),
    );

    // ---- traffic --------------------------------------------------------------------------------------------
    phase = 'traffic';
    const t0 = Date.now() + 200;
    const trafficFrom = t0;
    let peopleDone = false;
    const hours = stepHours(spec, t0, clock, shards, server !== undefined, (h) => (hour = h), () => peopleDone);
    const local = shards[0] && 'shard' in shards[0] ? (shards[0] as ReturnType<typeof localShard>).shard : undefined;
    const crashes = local ? runCrashes([...local.lockers.values()], spec.crashes, seededRandom(spec.seed ^ 0xc0ffee), () => !peopleDone) : Promise.resolve(0);
    const faultRuns = shards.map((s, i) => s.runFaults(faultsOf(faults, (l) => shardOf(l) === i), t0));
    await Promise.all(shards.map((s, i) => s.runFlows(flows.filter((f) => shardOf(f.locker) === i), t0)));
    phase = 'no-shows';
    await runNoShows(shards, server, clock);
    peopleDone = true;
    hour = null;
    const crashCount = await crashes;
    await Promise.all(faultRuns);
    await hours;
    const trafficMs = Date.now() - trafficFrom;

    // ---- converge: every agent with an empty outbox, and the server holding every event each one recorded --
    phase = 'converging';
    const convergeFrom = Date.now();
    const problems: string[] = [...registerProblems];
    const pollMs = Math.min(2000, Math.max(50, spec.lockers / 5));
    const converged = async () => {
      const views = await lockerViews(api);
      const received = new Map(views.map((v) => [v.id, v.events.received]));
      return (await allStatus(shards)).every((d) => d.outbox === 0 && received.get(d.id) === d.lastSeq);
    };
    await waitFor(converged, 60_000 + spec.lockers * 10, 'the fleet did not converge in time', pollMs).catch((err: Error) => problems.push(err.message));
    const convergeMs = Date.now() - convergeFrom;

    // ---- firmware rollout (issue 19): after the traffic, over the converged fleet ------------------------------
    let rollout: RolloutOutcome | undefined;
    if (spec.firmwareRollout && vendor) {
      const ownServer = server;
      rollout = await runFirmwareRollout(api, vendor, spec.firmwareRollout, () => ownServer?.scheduler.runOnce() ?? Promise.resolve(), 120_000 + spec.lockers * 100);
      if (!['completed', 'halted'].includes(rollout.state)) problems.push(`the firmware rollout did not end (state ${rollout.state})`);
    }

    // ---- check ----------------------------------------------------------------------------------------------
    phase = 'checking';
    const snapshot = await stableSnapshot({
      readViews: () => lockerViews(api),
      readDevices: () => Promise.all(shards.map((s) => s.collect())),
      lastSeqs: (rs) => rs.flatMap((r) => r.devices.map((d) => [d.id, d.lastSeq] as const)),
      readParcels: (rs) => fetchAll(rs.flatMap((r) => r.parcelIds), (id) => api.get<ParcelWithHistory>(`/v1/parcels/${id}`)),
      settle: () => waitFor(converged, 60_000 + spec.lockers * 10, 'the fleet did not converge again', pollMs).catch(() => undefined).then(() => sleep(Math.max(1000, pollMs))),
    });
    if (!snapshot.stable) problems.push(`the fleet kept recording or committing events while it was checked (${snapshot.reads} reads): the invariants are checked on the last`);
    const results = snapshot.devices;
    const ids = new Set(results.flatMap((r) => r.devices.map((d) => d.id)));
    const views = snapshot.views.filter((l) => ids.has(l.id));
    const parcels = snapshot.parcels;
    const devices = new Map<string, DeviceRecord>();
    for (const d of results.flatMap((r) => r.devices)) devices.set(d.id, { lastSeq: d.lastSeq, ...(d.acceptedByJti ? { acceptedByJti: new Map(d.acceptedByJti) } : {}) });
    const violations = checkInvariants({ parcels, lockers: views, devices });
    aggregate.sample(Date.now(), null);
    o.onProgress?.(progress());
    return buildReport({
      spec,
      results,
      books: keepBooks(parcels),
      views,
      aggregate,
      violations,
      problems: [...problems, ...results.flatMap((r: ShardResult) => r.problems)],
      faults: { outages: faults.outages.length, storm: faults.storm !== null, crashes: crashCount, jams: flows.filter((f) => f.jam).length },
      duplicatesIgnored: server ? server.stats.eventsDuplicate : null,
      phases: { registerMs, trafficMs, convergeMs },
      durationMs: Date.now() - started,
      failovers: api.failovers,
      ...(rollout ? { rollout } : {}),
    });
  } finally {
    clearInterval(sampler);
    await Promise.all(shards.map((s) => s.stop().catch(() => undefined)));
    await server?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
    if (deviceDir !== workDir) rmSync(deviceDir, { recursive: true, force: true });
  }
}

/**
 * Where the simulated lockers keep their stores: in memory (/dev/shm) where the machine has it. Each real locker
 * has its own flash; here thousands share one disk, and their fsyncs (every recorded event is durable before it
 * is sent) would queue with each other and with the server's own commits, which are what the run measures. The
 * stores stay files, so a killed agent process finds its store as it left it. SIM_DEVICE_DIR overrides.
 */
function deviceStoreDir(workDir: string): string {
  const base = process.env.SIM_DEVICE_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : undefined);
  if (!base) return workDir;
  try {
    return mkdtempSync(path.join(base, 'lockstep-sim-lockers-'));
  } catch {
    return workDir;
  }
}

/**
 * Virtual time: at the end of each real `hourMs` slot the clock jumps so that it reads the next virtual hour
 * (only with the in-process server, whose clock is ours). Resolves when the profile is over or people are done.
 */
async function stepHours(
  spec: RunSpec,
  t0: number,
  clock: VirtualClock,
  shards: readonly ShardHandle[],
  ownServer: boolean,
  setHour: (h: number) => void,
  done: () => boolean,
): Promise<void> {
  if (spec.hourMs === 0) return setHour(0);
  for (let h = 0; h < spec.hourly.length; h++) {
    setHour(h);
    await sleep(t0 + (h + 1) * spec.hourMs - Date.now());
    if (h === spec.hourly.length - 1 || (done() && Date.now() > t0 + profileMs(spec))) break;
    const jump = 3_600_000 - spec.hourMs;
    if (ownServer && jump > 0) {
      clock.advance(jump);
      for (const s of shards) s.advance(jump);
    }
  }
}

/** Deposits the no-shows, passes the pickup window on the virtual clock, lets couriers collect; until all went round. */
async function runNoShows(shards: readonly ShardHandle[], server: LockstepServer | undefined, clock: VirtualClock): Promise<void> {
  const windowMs = (server?.ctx.config.pickupWindowSec ?? 0) * 1000;
  for (;;) {
    const rounds = await Promise.all(shards.map((s) => s.noShowDeposit()));
    if (rounds.every((r) => r.deposited === 0 && r.pending === 0)) return;
    if (rounds.every((r) => r.deposited === 0)) {
      await Promise.all(shards.map((s) => s.noShowGiveUp()));
      return;
    }
    clock.advance(windowMs + 60_000);
    for (const s of shards) s.advance(windowMs + 60_000);
    await Promise.all(shards.map((s) => s.noShowCollect()));
    if (rounds.every((r) => r.pending === 0)) return;
  }
}

function faultsOf(plan: FaultPlan, mine: (locker: number) => boolean): FaultPlan {
  return {
    outages: plan.outages.filter((o) => mine(o.locker)),
    storm: plan.storm,
    forcedOpens: plan.forcedOpens.filter((o) => mine(o.locker)),
    powerCuts: plan.powerCuts.filter((p) => mine(p.locker)),
  };
}

async function allStatus(shards: readonly ShardHandle[]): Promise<DeviceSummary[]> {
  return (await Promise.all(shards.map((s) => s.status()))).flat();
}

/** Every locker, page by page (GET /v1/lockers answers keyset pages of at most 500). */
async function lockerViews(api: ApiClient): Promise<LockerView[]> {
  const out: LockerView[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: LockerView[]; nextCursor: string | null } = await api.get(`/v1/lockers?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Fetches many resources a few at a time (thousands at once would only queue at the server). */
async function fetchAll<T>(ids: readonly string[], get: (id: string) => Promise<T>, concurrency = 16): Promise<T[]> {
  const out: T[] = new Array(ids.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ids.length; i = next++) out[i] = await get(ids[i] as string);
    }),
  );
  return out;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(what);
    await sleep(pollMs);
  }
}
