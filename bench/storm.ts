import path from 'node:path';
import { registerLockers, serverWindow, startFleet, startHost, stopHost, type BenchContext } from './harness.js';
import type { FleetStats } from './mqtt-fleet.js';
import type { ProfileSummary } from './profile.js';
import { pct, round, say, sleep, type Percentiles } from './stats.js';

interface StormRun {
  /** Every event committed, every outbox empty, nothing acknowledged missing from the database. */
  absorbed: boolean;
  /** For 60 s the server committed nothing and no locker got in or dropped out, events outstanding (stuck). */
  stalled: boolean;
  /** Longest time without a commit while events were outstanding (the server busy with connects, or stuck). */
  longestCommitGapMs: number;
  /** The server process died during the storm: its first error line (empty when it did not). */
  crashed: string;
  /** From the server listening again until every event was committed (-1: not within the bound). */
  commitAllMs: number;
  /** … until every locker's outbox was empty (every ack received). */
  ackAllMs: number;
  /** Rows in device_events, acks the lockers received, and acks for rows that are not there (must be 0). */
  committed: number;
  acked: number;
  lost: number;
  duplicatesIgnored: number;
  /** Device messages the server refused or dropped (OVERLOADED: its handler queue was full), and broker sign-ins refused. */
  rejected: number;
  authFailures: number;
  resent: number;
  reconnected: number;
  /** Milliseconds from the server listening to each locker's first connection. */
  reconnectMs: Percentiles;
  /** Events committed per second over the whole storm. */
  eventsPerSec: number;
  serverCpu: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  profile?: ProfileSummary;
}

export interface StormResult {
  lockers: number;
  perLocker: number;
  events: number;
  downMs: number;
  boundSec: number;
  shipped: StormRun;
}

/**
 * No commit and no change in the lockers connected for this long: stuck. (Server CPU is no guide on a shared
 * machine: a server waiting on the disk, or starved by other processes, uses little of it and still moves.)
 */
const STALL_MS = 60_000;

/**
 * The server is down while N lockers (light lockers in another process, the agent's reconnect rules) record a
 * backlog; it comes back on the same database and ports and the whole fleet reconnects at once, spread only by
 * its backoff jitter. Measured: time until every event is committed and acknowledged, and that none is lost.
 */
async function storm(ctx: BenchContext, label: string, n: number, perLocker: number, downMs: number, boundMs: number): Promise<StormRun> {
  const dataDir = path.join(ctx.tmp, label);
  const setup = await startHost(ctx, { kind: 'lockstep', dataDir, port: 0, mqttPort: 0, logLevel: 'info' }, `${label}-setup`);
  const creds = await registerLockers(setup, n, [{ id: 'A1', size: 'M' }]);
  const ports = { port: Number(new URL(setup.httpUrl).port), mqttPort: setup.mqttPort };
  await stopHost(setup);

  const fleet = await startFleet({ host: '127.0.0.1', port: ports.mqttPort, ack: 'server', heartbeatMs: 30_000, ackTimeoutMs: 15_000, seed: 11 }, `${label} fleet`);
  await fleet.request('add', { lockers: creds });
  const total = await fleet.request<number>('launch', { perLocker });
  say(`  ${n} lockers recorded ${total} events while the server is down; it comes back in ${downMs / 1000} s`);
  await sleep(downMs);

  let host = await startHost(ctx, { kind: 'lockstep', dataDir, ...ports, logLevel: 'info' }, label);
  const back = Date.now();
  const window = serverWindow(ctx, host, 0);
  let commitAllMs = -1;
  let ackAllMs = -1;
  let stalled = false;
  let crashed = '';
  let last = 0;
  let committedAt = Date.now();
  let movedAt = Date.now();
  let connected = -1;
  let longestCommitGapMs = 0;
  let lastSay = 0;
  while (Date.now() - back < boundMs) {
    // A server whose event loop is blocked answers late: that is waiting, not progress, and the bound still holds.
    const h = await Promise.race([host.stats(), sleep(15_000).then(() => 'late' as const)]).catch(() => null);
    if (h === 'late') {
      if (Date.now() - movedAt > STALL_MS) {
        stalled = true;
        break;
      }
      continue;
    }
    if (!h || !host.child.alive) {
      await host.child.exited;
      const d = host.child.death;
      crashed = d ? `exit ${String(d.code ?? d.signal)}: ${d.error}` : 'unknown';
      break;
    }
    const f = await fleet.request<FleetStats>('stats');
    if (commitAllMs < 0 && h.eventsApplied >= total) commitAllMs = Date.now() - back;
    if (f.outbox === 0) {
      ackAllMs = Date.now() - back;
      break;
    }
    if (h.eventsApplied > last) committedAt = Date.now();
    if (h.eventsApplied > last || f.connected !== connected) movedAt = Date.now();
    last = h.eventsApplied;
    connected = f.connected;
    longestCommitGapMs = Math.max(longestCommitGapMs, Date.now() - committedAt);
    if (Date.now() - movedAt > STALL_MS) {
      stalled = true;
      break;
    }
    if (Date.now() - lastSay > 5000) {
      lastSay = Date.now();
      say(`  [${label}] ${round((Date.now() - back) / 1000)} s: ${f.connected} connected, ${h.eventsApplied} of ${total} committed, ${f.outbox} unacknowledged, ${h.rejected} messages refused`);
    }
    await sleep(250);
  }
  const w = crashed ? null : await window.close();
  const drain = await fleet.request<{ reconnected: number; reconnect: Percentiles } & FleetStats>('drain', { since: back, timeoutMs: 0 });
  await fleet.kill();
  if (crashed) {
    // What the dead server committed is in its database: count it with a fresh one, without lockers.
    await host.child.kill();
    const after = await startHost(ctx, { kind: 'lockstep', dataDir, port: 0, mqttPort: 0, logLevel: 'info' }, `${label}-count`);
    host = after;
  }
  const committed = await host.child.request<number>('countEvents');
  const h = await host.stats();
  await host.child.kill();
  const absorbed = !stalled && !crashed && ackAllMs >= 0 && committed === total && drain.acked === total;
  const done = commitAllMs >= 0 ? commitAllMs : Date.now() - back;
  return {
    absorbed,
    stalled,
    longestCommitGapMs,
    crashed,
    commitAllMs,
    ackAllMs,
    committed,
    acked: drain.acked,
    lost: Math.max(0, drain.acked - committed),
    duplicatesIgnored: h.eventsDuplicate,
    rejected: h.rejected,
    authFailures: h.authFailures,
    resent: drain.resent,
    reconnected: drain.reconnected,
    reconnectMs: drain.reconnect,
    eventsPerSec: round(committed / (done / 1000)),
    serverCpu: w?.cpu ?? 0,
    loopDelayMs: h.loopDelay,
    ...(w?.profile ? { profile: w.profile } : {}),
  };
}

function describe(label: string, r: StormRun, total: number): void {
  const verdict = r.absorbed ? 'absorbed' : r.crashed ? `server CRASHED (${r.crashed})` : r.stalled ? 'STALLED' : 'NOT absorbed within the bound';
  say(
    `  ${label}: ${verdict}: ${r.committed} of ${total} committed in ${r.commitAllMs >= 0 ? `${round(r.commitAllMs / 1000, 1)} s` : '—'}, ` +
      `all acknowledged in ${r.ackAllMs >= 0 ? `${round(r.ackAllMs / 1000, 1)} s` : '—'} (${r.eventsPerSec} events/s); lost ${r.lost}, ` +
      `duplicates ignored ${r.duplicatesIgnored}, resent ${r.resent}, refused ${r.rejected} messages and ${r.authFailures} sign-ins; longest time without a commit ${round(r.longestCommitGapMs / 1000, 1)} s; reconnected ${r.reconnected} (p50 ${round(r.reconnectMs.p50 / 1000, 1)} s, ` +
      `p90 ${round(r.reconnectMs.p90 / 1000, 1)} s, max ${round(r.reconnectMs.max / 1000, 1)} s); server ${pct(r.serverCpu)} of a core`,
  );
}

export async function benchStorm(ctx: BenchContext): Promise<StormResult> {
  const lockers = ctx.quick ? 1000 : 10_000;
  const perLocker = ctx.quick ? 5 : 10;
  const downMs = ctx.quick ? 1000 : 5000;
  const boundMs = ctx.long ? 900_000 : ctx.quick ? 60_000 : 480_000;
  say(`storm: ${lockers} lockers × ${perLocker} events recorded while the server is down`);
  const shipped = await storm(ctx, 'storm-lockstep', lockers, perLocker, downMs, boundMs);
  describe('Lockstep', shipped, lockers * perLocker);
  return { lockers, perLocker, events: lockers * perLocker, downMs, boundSec: boundMs / 1000, shipped };
}
