import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext, Host } from './harness.js';
import type { BenchChild } from './ipc.js';
import type { FleetStats } from './mqtt-fleet.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import { percentiles, round, say, sleep, sum, type Percentiles } from './stats.js';

/** Nothing committed, acknowledged or reconnected for this long while events are outstanding: stuck (--stall-sec sets it). */
const STALL_MS = 120_000;

export interface FleetStorm {
  lockers: number;
  perLocker: number;
  /** Events recorded during the cut (every locker's backlog). */
  events: number;
  /** From the cut until every outbox was empty and (Lockstep) every event committed; -1: not within the bound. */
  absorbMs: number;
  stalled: boolean;
  /** Rows added to device_events (Lockstep; for bare aedes the PUBACKs received). */
  committed: number;
  /** Events whose ack the lockers received. */
  acked: number;
  /** Acknowledged but not in the database: must be 0. */
  lost: number;
  /** Lockers back within the bound, and milliseconds from the cut to each one's first connection after it. */
  reconnected: number;
  /** Connects refused as busy (CONNACK 3) after the cut. */
  busy: number;
  reconnectMs: Percentiles;
  eventsPerSec: number;
  /** Connects tried after the cut, and how many of them got no CONNACK within the locker's connect timeout. */
  attempts: number;
  timeouts: number;
  /** Connects closed with neither a CONNACK nor an error (the servers' sign-in timeout), and those that waited for a client process's connect slot (BENCH_CLIENT_CONNECTS). */
  dropped: number;
  slotWaits: number;
  /** With --profile: the first server's and the first client process's CPU profiles over the storm's first minutes. */
  profiles?: { server: ProfileSummary; client: ProfileSummary };
}

/** With --profile, how much of the storm's start is profiled (where a stall shows). */
const PROFILE_MS = 120_000;

/** Profiles the first server and the first client process from now for `ms` (or until `stop` is called). */
function profileStorm(ctx: BenchContext, host: Host, client: BenchChild, label: string) {
  const dir = ctx.profileDir;
  if (dir === undefined || host.kind !== 'lockstep') return undefined;
  mkdirSync(dir, { recursive: true });
  const started = Promise.all([host.child.request('profileStart'), client.request('profileStart')]);
  let result: Promise<{ server: ProfileSummary; client: ProfileSummary }> | undefined;
  return {
    started,
    stop() {
      result ??= started.then(async () => {
        const files = { server: path.join(dir, `${label}-storm-server.cpuprofile`), client: path.join(dir, `${label}-storm-client.cpuprofile`) };
        await Promise.all([host.child.request('profileStop', { file: files.server }), client.request('profileStop', { file: files.client })]);
        const out = { server: summariseProfile(files.server), client: summariseProfile(files.client) };
        say(`  ${label} storm, first server process:`);
        for (const line of formatProfile(out.server)) say(line);
        say(`  ${label} storm, first client process:`);
        for (const line of formatProfile(out.client)) say(line);
        return out;
      });
      return result;
    },
  };
}

/**
 * The city-wide power cut (`storm --fleet N`): every connected locker of the client processes drops its connection
 * at once without a DISCONNECT (the brokers publish every will), records `perLocker` events, and reconnects with
 * the agent's backoff (first step: up to 1 s of jitter). Done when every outbox is empty and, on Lockstep, every
 * event is a row in the shared database (counted there, not from counters).
 */
export async function powerCut(ctx: BenchContext, label: string, hosts: Host[], fleets: BenchChild[], o: { perLocker: number; boundMs: number; lockstep: boolean; stallMs?: number }): Promise<FleetStorm> {
  const countRows = () => (hosts[0] as Host).child.request<number>('countEvents');
  const rowsBefore = o.lockstep ? await countRows() : 0;
  const before = await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')));
  // A fleet counter's growth since the cut, over every client process.
  const since = (stats: FleetStats[], key: 'acked' | 'busy' | 'attempts' | 'timeouts' | 'dropped' | 'slotWaits') => sum(stats.map((s) => s[key])) - sum(before.map((s) => s[key]));
  let busy = 0;
  let attempts = 0;
  let timeouts = 0;
  let dropped = 0;
  let slotWaits = 0;
  const profiled = profileStorm(ctx, hosts[0] as Host, fleets[0] as BenchChild, label);
  await profiled?.started;
  const cutAt = Date.now();
  const outboxes = await Promise.all(fleets.map((f) => f.request<number>('cut', { perLocker: o.perLocker })));
  const events = sum(outboxes);
  const lockers = Math.round(events / o.perLocker);
  say(`  ${label}: power cut: ${lockers} lockers dropped at once with ${events} events recorded`);
  let absorbMs = -1;
  let stalled = false;
  let committed = 0;
  let acked = 0;
  let movedAt = Date.now();
  let seen = '';
  let lastSay = 0;
  while (Date.now() - cutAt < o.boundMs) {
    await sleep(1000);
    const stats = await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')));
    const outbox = sum(stats.map((s) => s.outbox));
    const connected = sum(stats.map((s) => s.connected));
    acked = since(stats, 'acked');
    busy = since(stats, 'busy');
    attempts = since(stats, 'attempts');
    timeouts = since(stats, 'timeouts');
    dropped = since(stats, 'dropped');
    slotWaits = since(stats, 'slotWaits');
    // A profile that cannot be written is reported where the storm ends (the same promise), not as an unhandled rejection.
    if (profiled && Date.now() - cutAt >= PROFILE_MS) profiled.stop().catch(() => undefined);
    committed = o.lockstep ? (await countRows()) - rowsBefore : acked;
    if (outbox === 0 && committed >= events) {
      absorbMs = Date.now() - cutAt;
      break;
    }
    const now = `${committed}/${acked}/${connected}`;
    if (now !== seen) movedAt = Date.now();
    seen = now;
    if (Date.now() - movedAt > (o.stallMs ?? STALL_MS)) {
      stalled = true;
      break;
    }
    if (Date.now() - lastSay > 5000) {
      lastSay = Date.now();
      const first = o.lockstep ? await (hosts[0] as Host).stats(true) : undefined;
      say(
        `  [${label} storm] ${round((Date.now() - cutAt) / 1000)} s: ${connected} connected, ${committed} of ${events} committed, ${outbox} unacknowledged; ` +
          `${attempts} connects tried, ${busy} refused as busy, ${timeouts} without a CONNACK in time, ${dropped} closed unanswered` +
          (slotWaits ? `, ${slotWaits} waited for a client slot (${sum(stats.map((s) => s.slotLine))} waiting)` : '') +
          (first ? `; first server: event-loop delay max ${first.loopDelay.max} ms, ${first.rejected} device messages refused so far ${JSON.stringify(first.rejectedByCode ?? {})}` : ''),
      );
    }
  }
  const profiles = await profiled?.stop();
  const back = (await Promise.all(fleets.map((f) => f.request<number[]>('reconnects', { since: cutAt })))).flat();
  const doneMs = absorbMs >= 0 ? absorbMs : Date.now() - cutAt;
  const result: FleetStorm = {
    lockers,
    perLocker: o.perLocker,
    events,
    absorbMs,
    stalled,
    committed,
    acked,
    lost: Math.max(0, acked - committed),
    reconnected: back.length,
    busy,
    reconnectMs: percentiles(back),
    eventsPerSec: round(committed / (doneMs / 1000)),
    attempts,
    timeouts,
    dropped,
    slotWaits,
    ...(profiles ? { profiles } : {}),
  };
  say(
    `  ${label}: ${absorbMs >= 0 ? `absorbed in ${round(absorbMs / 1000, 1)} s` : stalled ? 'STALLED' : 'NOT absorbed within the bound'}: ` +
      `${committed} of ${events} committed, ${acked} acknowledged, lost ${result.lost}; ${back.length} reconnected ` +
      `(p50 ${round(result.reconnectMs.p50 / 1000, 1)} s, p90 ${round(result.reconnectMs.p90 / 1000, 1)} s, max ${round(result.reconnectMs.max / 1000, 1)} s), ${attempts} connects tried, ${busy} refused as busy, ${timeouts} without a CONNACK in time, ${dropped} closed unanswered, ${slotWaits} waited for a client slot, ${result.eventsPerSec} events/s`,
  );
  return result;
}
