import path from 'node:path';
import type { FleetCredential } from './credentials.js';
import { measureCommits } from './disk.js';
import { fakeCredentials } from './events.js';
import { registerLockers, serverWindow, startFleet, startHost, type BenchContext, type Host } from './harness.js';
import { openFileLimit, type BenchChild } from './ipc.js';
import type { ConnectResult, FleetStats } from './mqtt-fleet.js';
import type { ProfileSummary } from './profile.js';
import { mib, pct, ratio, round, say, sleep } from './stats.js';

interface HoldStep {
  /** Lockers connected to the server at the end of the step. */
  lockers: number;
  /** Clients added in this step, how long they took to connect, and how many did not within the bound. */
  added: number;
  connectMs: number;
  connectsPerSec: number;
  /** Seconds until 10 %, 20 %, … 100 % of this step's clients had connected (-1: not within the bound). */
  connectDecilesSec: number[];
  failed: number;
  /** Lockers whose heartbeat the server recorded during the hold (Lockstep), or heartbeats sent (bare). */
  heartbeats: number;
  /**
   * Lockstep: how long after the hold the server took to record a heartbeat of 99 % of lockers (-1: not within
   * 60 s, or it stopped recording any for 15 s: the server stalled).
   */
  catchUpMs: number;
  rssMiB: number;
  heapMiB: number;
  /** (RSS now − RSS before the first client) / lockers. */
  kibPerLocker: number;
  /** Server CPU during the hold (heartbeats only), share of one core. */
  holdCpu: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  profile?: ProfileSummary;
}

interface LockstepRun {
  steps: HoldStep[];
  maxHeld: number;
  stoppedBecause: string;
}

export interface ConnectionsResult {
  heartbeatMs: number;
  holdMs: number;
  connectBoundSec: number;
  bareAedes: HoldStep;
  /** The shipped code: first step, then 10,000 more at a time while each step holds (full run only). */
  lockstep: LockstepRun;
  ratios: { lockersVsBare: number; memoryVsBare: number; connectRateVsBare: number };
  /** Durable commits per second of this disk (bench/disk.ts), measured in the same run. */
  commitsPerSec: number;
  /** Lockers whose heartbeats alone use every durable commit the disk can make, one commit per heartbeat. */
  heartbeatCommitBound: number;
  /** Open files one process may hold on this machine (each connection is one). */
  openFileLimit: number;
}

interface Server {
  host: Host;
  rss0: number;
  fleets: BenchChild[];
  lockstep: boolean;
}

const STEP = 10_000;
const MAX_LOCKERS = 60_000;
const CATCH_UP_MS = 60_000;
/** No new heartbeat recorded for this long while some are missing: the server has stopped handling messages. */
const STALL_MS = 15_000;

/** Adds `creds` as a new client process (own source address), connects them, then holds for `holdMs`. */
async function step(ctx: BenchContext, s: Server, creds: FleetCredential[], o: { heartbeatMs: number; holdMs: number; boundMs: number }): Promise<HoldStep> {
  const fleet = await startFleet(
    {
      host: '127.0.0.1',
      port: s.host.mqttPort,
      ack: s.lockstep ? 'server' : 'puback',
      heartbeatMs: o.heartbeatMs,
      ackTimeoutMs: 15_000,
      seed: 100 + s.fleets.length,
      // One loopback source address per client process: ~28,000 ephemeral ports each, never exhausted.
      localAddresses: [`127.0.0.${2 + s.fleets.length}`],
    },
    `${s.host.label} clients ${s.fleets.length + 1}`,
  );
  s.fleets.push(fleet);
  await fleet.request('add', { lockers: creds });
  const c = await fleet.request<ConnectResult>('connect', { concurrency: 200, timeoutMs: o.boundMs });
  const holdStart = Date.now();
  const hb0 = await Promise.all(s.fleets.map((f) => f.request<FleetStats>('stats')));
  await s.host.stats(true);
  const window = serverWindow(ctx, s.host, 0);
  await sleep(o.holdMs);
  const w = await window.close();
  const hb1 = await Promise.all(s.fleets.map((f) => f.request<FleetStats>('stats')));
  let heartbeats = hb1.reduce((a, f) => a + f.heartbeats, 0) - hb0.reduce((a, f) => a + f.heartbeats, 0);
  const holdEnd = Date.now();
  let catchUpMs = 0;
  if (s.lockstep) {
    // The server works through what the connects queued (status, snapshots) before it sees later heartbeats.
    const total = (await s.host.stats()).connected;
    const seen = () => s.host.child.request<number>('seenSince', { since: holdStart });
    heartbeats = await seen();
    let movedAt = Date.now();
    while (heartbeats < total * 0.99 && Date.now() - holdEnd < CATCH_UP_MS && Date.now() - movedAt < (ctx.quick ? STALL_MS / 2 : STALL_MS)) {
      await sleep(1000);
      const now = await seen();
      if (now > heartbeats) movedAt = Date.now();
      heartbeats = now;
    }
    catchUpMs = heartbeats >= total * 0.99 ? Date.now() - holdEnd : -1;
  }
  const stats = await s.host.stats();
  const mem = await s.host.memory();
  return {
    lockers: stats.connected,
    added: creds.length,
    connectMs: c.ms,
    connectsPerSec: c.ms > 0 ? round(c.connected / (c.ms / 1000)) : 0,
    connectDecilesSec: c.deciles.map((d) => (d < 0 ? -1 : round(d / 1000, 1))),
    failed: c.failed,
    heartbeats,
    catchUpMs,
    rssMiB: mib(mem.rss),
    heapMiB: mib(mem.heapUsed),
    kibPerLocker: stats.connected > 0 ? round((mem.rss - s.rss0) / 1024 / stats.connected, 1) : 0,
    holdCpu: w.cpu,
    loopDelayMs: stats.loopDelay,
    ...(w.profile ? { profile: w.profile } : {}),
  };
}

function describe(label: string, st: HoldStep): void {
  const caught = st.catchUpMs > 0 ? ` (99 % recorded ${round(st.catchUpMs / 1000, 1)} s after the hold)` : st.catchUpMs < 0 ? ' (NOT all recorded)' : '';
  say(
    `  ${label}: ${st.lockers} connected (+${st.added - st.failed} in ${round(st.connectMs / 1000, 1)} s, ${st.connectsPerSec}/s, ${st.failed} not within the bound; ` +
      `deciles ${st.connectDecilesSec.join(' ')} s); heartbeats ${st.heartbeats}${caught}; RSS ${st.rssMiB} MiB = ${st.kibPerLocker} KiB/locker; ` +
      `hold CPU ${pct(st.holdCpu)}, loop p99 ${st.loopDelayMs.p99} ms`,
  );
}

async function shutdown(s: Server): Promise<void> {
  // No goodbyes: thousands of wills and their database updates would only slow the teardown.
  await s.host.child.kill();
  await Promise.all(s.fleets.map((f) => f.kill()));
}

/** Every connected locker's heartbeat recorded: the step's lockers are held (whether or not all of them got in). */
const held = (st: HoldStep) => st.catchUpMs >= 0;

/** The Lockstep server: N lockers, then more while each step holds and time allows. */
async function lockstepRun(ctx: BenchContext, label: string, n: number, o: { heartbeatMs: number; holdMs: number; boundMs: number }): Promise<LockstepRun> {
  const compartments = [
    { id: 'A1', size: 'S' },
    { id: 'A2', size: 'S' },
    { id: 'B1', size: 'M' },
    { id: 'C1', size: 'L' },
  ];
  const dataDir = path.join(ctx.tmp, label);
  const config = { kind: 'lockstep' as const, dataDir, port: 0, mqttPort: 0, logLevel: 'info' };
  // Registered by a process of its own, so the measured one starts with a clean heap and RSS.
  const setup = await startHost(ctx, config, `${label}-setup`);
  const first = await registerLockers(setup, n, compartments);
  await setup.child.stop();
  const host = await startHost(ctx, config, label);
  const s: Server = { host, rss0: (await host.memory()).rss, fleets: [], lockstep: true };
  const steps = [await step(ctx, s, first, o)];
  describe(label, steps[0] as HoldStep);
  // Every connection is an open file of the server process: its limit here caps how far one process can go.
  const fileLimit = openFileLimit();
  const cap = Math.min(MAX_LOCKERS, fileLimit - 500);
  let stoppedBecause = ctx.quick
    ? 'quick run: no steps beyond the first'
    : cap < MAX_LOCKERS
      ? `reached ${cap}: one process may open ${fileLimit} files here (ulimit -n; raising it needs privileges this machine does not give)`
      : `reached ${MAX_LOCKERS}, the cap of this benchmark`;
  // A step of 10,000 takes minutes here (each connect is a signed token checked and recorded durably).
  const budgetEnd = Date.now() + (ctx.long ? 1_800_000 : 600_000);
  for (let last = steps[0] as HoldStep; !ctx.quick; ) {
    if (last.failed > last.added * 0.01) {
      stoppedBecause = `${last.failed} of ${last.added} lockers did not connect within ${o.boundMs / 1000} s`;
      break;
    }
    if (!held(last)) {
      stoppedBecause = `the server recorded heartbeats of only ${last.heartbeats} of ${last.lockers} lockers (stalled)`;
      break;
    }
    const more = Math.min(STEP, cap - last.lockers);
    if (more < 1000) break;
    if (Date.now() > budgetEnd) {
      stoppedBecause = 'time budget of the benchmark used up';
      break;
    }
    // Registered on the live server (setup writes non-durable for that moment): 10,000 more lockers.
    last = await step(ctx, s, await registerLockers(host, more, compartments), o);
    steps.push(last);
    describe(label, last);
  }
  await shutdown(s);
  const ok = steps.filter(held);
  return { steps, maxHeld: ok.length ? Math.max(...ok.map((st) => st.lockers)) : 0, stoppedBecause };
}

/**
 * Connected lockers held by one server process with heartbeats, and memory per locker, against bare aedes
 * holding the same clients. Clients live in separate processes (light lockers: the agent's connect sequence,
 * heartbeats, no agent state); each connect phase is bounded.
 */
export async function benchConnections(ctx: BenchContext): Promise<ConnectionsResult> {
  const n = ctx.quick ? 1000 : STEP;
  const heartbeatMs = ctx.quick ? 3000 : 15_000;
  const o = { heartbeatMs, holdMs: heartbeatMs + 3000, boundMs: ctx.long ? 900_000 : ctx.quick ? 60_000 : 480_000 };
  say(`connections: ${n} lockers, heartbeat every ${heartbeatMs / 1000} s, held ${o.holdMs / 1000} s, connects bounded to ${o.boundMs / 1000} s`);

  const commitsPerSec = measureCommits(ctx.tmp, ctx.quick ? 1000 : 3000).onePerCommit;
  const heartbeatCommitBound = round((commitsPerSec * heartbeatMs) / 1000);
  say(`  ${commitsPerSec} durable commits/s on this disk: one commit per heartbeat every ${heartbeatMs / 1000} s saturates it at ${heartbeatCommitBound} lockers`);

  const bareHost = await startHost(ctx, { kind: 'aedes', mqttPort: 0 }, 'connections-bare-aedes');
  const bare: Server = { host: bareHost, rss0: (await bareHost.memory()).rss, fleets: [], lockstep: false };
  const bareAedes = await step(ctx, bare, fakeCredentials(n), o);
  describe('bare aedes', bareAedes);
  await shutdown(bare);

  const lockstep = await lockstepRun(ctx, 'connections-lockstep', n, o);
  const first = lockstep.steps[0] as HoldStep;
  say(`  Lockstep held ${lockstep.maxHeld} lockers with heartbeats (${lockstep.stoppedBecause})`);
  const ratios = {
    lockersVsBare: ratio(first.lockers, bareAedes.lockers),
    memoryVsBare: ratio(bareAedes.kibPerLocker, first.kibPerLocker),
    connectRateVsBare: ratio(first.connectsPerSec, bareAedes.connectsPerSec),
  };
  say(
    `  memory ${first.kibPerLocker} KiB/locker vs bare aedes ${bareAedes.kibPerLocker} KiB (bare/Lockstep ${pct(ratios.memoryVsBare)}); ` +
      `connect rate ${pct(ratios.connectRateVsBare)} of bare; connected ${pct(ratios.lockersVsBare)} of bare within the bound`,
  );
  return {
    heartbeatMs,
    holdMs: o.holdMs,
    connectBoundSec: o.boundMs / 1000,
    bareAedes,
    lockstep,
    ratios,
    commitsPerSec,
    heartbeatCommitBound,
    openFileLimit: openFileLimit(),
  };
}
