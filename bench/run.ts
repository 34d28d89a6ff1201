/**
 * `npm run bench [-- --quick] [--profile] [--long] [--keep] [names…]`: each benchmark prints its figure next
 * to the raw limit measured in the same run on this machine, as a ratio. Progress on stderr; one JSON summary
 * on stdout. Names: bookings, events, connections, unlock, storm (default: all, in that order).
 *   --quick    short run (about 2 minutes): fewer lockers, shorter windows; the fleet-size targets are not judged
 *   --profile  CPU-profile the measured window of each Lockstep server process and print its top frames
 *   --long     connect phases and storms bounded to 15 minutes instead of 8 (how far the shipped code goes)
 *   --keep     keep the scratch folder (databases, profiles)
 * An unknown flag or benchmark name exits with code 2 and BENCH_BAD_ARGUMENT.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBookings } from './bookings.js';
import { benchConnections } from './connections.js';
import { benchEvents } from './events.js';
import type { BenchContext } from './harness.js';
import { BenchChild } from './ipc.js';
import { describeMachine, loadavg, round, say } from './stats.js';
import { benchStorm } from './storm.js';
import { benchUnlock } from './unlock.js';
import { benchFleet, type FleetConnectionsResult } from './fleet.js';
import { TARGETS, judge, type Verdict } from './targets.js';
import { BenchArgumentError, parseBenchArgs, USAGE, type BenchArgs, type BenchmarkName } from './run-args.js';

const BENCHMARKS: Record<BenchmarkName, (ctx: BenchContext) => Promise<unknown>> = {
  bookings: benchBookings,
  events: benchEvents,
  connections: benchConnections,
  unlock: benchUnlock,
  storm: benchStorm,
};

function parseCommandLine(argv: readonly string[]): BenchArgs {
  try {
    return parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof BenchArgumentError)) throw err;
    say(`${err.code}: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2));
  if (args.help) {
    say(USAGE);
    process.exit(0);
  }
  const machine = describeMachine();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-'));
  const profileDir = args.profile ? path.join(tmp, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: BenchContext = { quick: args.quick, long: args.long, tmp, profileDir };
  const flags = [args.quick && '--quick', args.profile && '--profile', args.long && '--long'].filter((f): f is string => typeof f === 'string');
  if (args.fleet !== undefined) flags.push(`--fleet ${args.fleet}`, ...(args.processes ? [`--processes ${args.processes}`] : []), ...(args.heartbeatSec ? [`--heartbeat-sec ${args.heartbeatSec}`] : []), ...(args.boundSec ? [`--bound-sec ${args.boundSec}`] : []), ...(args.stallSec ? [`--stall-sec ${args.stallSec}`] : []));
  const command = `npm run bench${flags.length || args.names.length < Object.keys(BENCHMARKS).length ? ` -- ${[...flags, ...(args.names.length < Object.keys(BENCHMARKS).length ? args.names : [])].join(' ')}` : ''}`;
  say(command);
  say(`machine: ${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadavgAtStart.join(' ')}`);
  const started = Date.now();
  const results: Record<string, unknown> = {};
  const loads: Record<string, { before: number[]; after: number[]; seconds: number }> = {};
  const verdicts: Verdict[] = [];
  let failed = false;
  // --fleet: one deployment for connections and storm together (the storm follows the hold).
  const runs = args.fleet !== undefined ? [args.names.join('+')] : args.names;
  for (const name of runs) {
    const t0 = Date.now();
    const before = loadavg();
    say(`\n== ${name} ==`);
    try {
      // Each benchmark bounds its own phases; this is the backstop (connections steps up for up to ~25 minutes).
      // A fleet run with --bound-sec gets room for its bounds: connects on each side, and as much again for a storm.
      const boundsMs = args.boundSec ? args.boundSec * 1000 * (args.names.includes('storm') ? 4 : 2) + 30 * 60_000 : 0;
      const limitMs = Math.max((args.long ? 90 : args.quick ? 5 : 40) * 60_000, boundsMs);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not finish within ${limitMs / 60_000} minutes`)), limitMs);
      });
      const fleet = args.fleet;
      if (fleet === undefined) {
        const result = await Promise.race([BENCHMARKS[name as BenchmarkName](ctx), timeout]).finally(() => clearTimeout(timer));
        results[name] = result;
        verdicts.push(...judge(name as BenchmarkName, result));
      } else {
        const storm = args.names.includes('storm');
        const events = args.names.includes('events');
        const run = benchFleet(ctx, {
          fleet,
          ...(args.processes ? { processes: args.processes } : {}),
          ...(args.heartbeatSec ? { heartbeatSec: args.heartbeatSec } : {}),
          ...(args.boundSec ? { boundSec: args.boundSec } : {}),
          ...(args.stallSec ? { stallSec: args.stallSec } : {}),
          ...(storm ? { stormPerLocker: ctx.quick ? 3 : 5 } : {}),
          events,
          bookings: args.names.includes('bookings'),
          noBare: args.noBare,
        });
        const r: FleetConnectionsResult = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
        if (args.names.includes('connections')) results.connections = r;
        verdicts.push({ target: `issue 18: ${fleet} lockers held across one deployment, heartbeats recorded, 0 lost`, met: r.held === fleet && r.lost === 0 && r.lockstep.heartbeatsRecorded >= fleet * 0.99, figure: `held ${r.held}, lost ${r.lost}, heartbeats ${r.lockstep.heartbeatsRecorded} on ${r.processes} processes` });
        const e = r.lockstep.events;
        if (events && e && r.bareAedes?.events) {
          const vsBare = r.ratios.eventsVsBare ?? 0;
          results.events = { lockstep: e, bareAedes: r.bareAedes.events, ratios: { vsBareAedes: vsBare } };
          verdicts.push({ target: `issue 18: events committed across ${r.processes} processes ≥ 50 % of bare aedes QoS 1 on as many processes`, met: vsBare >= 0.5 && e.lost === 0, figure: `${e.eventsPerSec} vs ${r.bareAedes.events.eventsPerSec} events/s = ${round(vsBare * 100, 1)} %, lost ${e.lost}` });
        }
        const b = r.bookings;
        if (b) {
          results.bookings = b;
          verdicts.push({ target: `issue 18: bookings across ${b.processes} processes ≥ 50 % of the signing bound of every core`, met: b.vsSigningBound >= 0.5, figure: `${b.bookingsPerSec} vs ${b.signingBoundAllCores} bookings/s = ${round(b.vsSigningBound * 100, 1)} %` });
        }
        const s = r.lockstep.storm;
        if (storm && s) {
          // Without a bare side (--no-bare) there is no raw limit, so no ratio either (not a 0).
          results.storm = { lockstep: s, ...(r.bareAedes?.storm ? { bareAedes: r.bareAedes.storm, ratios: { absorbVsBare: r.ratios.stormVsBare ?? 0 } } : {}) };
          verdicts.push({ target: `issue 18: ${fleet} lockers reconnect at once after a power cut, every event committed, 0 lost`, met: s.absorbMs >= 0 && s.lost === 0 && s.committed === s.events, figure: `${s.committed} of ${s.events} committed in ${s.absorbMs >= 0 ? `${round(s.absorbMs / 1000, 1)} s` : '—'}, lost ${s.lost}` });
        }
      }
    } catch (err) {
      failed = true;
      results[name] = { error: err instanceof Error ? err.message : String(err) };
      say(`  ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      await BenchChild.killAll();
    }
    loads[name] = { before, after: loadavg(), seconds: Math.round((Date.now() - t0) / 1000) };
  }
  say('\n== targets (issue 6) ==');
  for (const v of verdicts) say(`  ${v.met === null ? 'not judged (quick)' : v.met ? 'met   ' : 'MISSED'} ${v.target}: ${v.figure}`);
  const summary = {
    command,
    at: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine,
    load: loads,
    targets: TARGETS,
    verdicts,
    results,
    ...(profileDir ? { profiles: profileDir } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (args.keep || args.profile) say(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

void main();
