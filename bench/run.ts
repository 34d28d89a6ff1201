/**
 * `npm run bench [-- --quick] [--profile] [--what-if] [--long] [names…]`: each benchmark prints its figure next
 * to the raw limit measured in the same run on this machine, as a ratio. Progress on stderr; one JSON summary
 * on stdout. Names: bookings, events, connections, unlock, storm (default: all, in that order).
 *   --quick    short run (about 2 minutes): fewer lockers, shorter windows; the fleet-size targets are not judged
 *   --profile  CPU-profile the measured window of each Lockstep server process and print its top frames
 *   --what-if  also run Lockstep with the bench-only patches of bench/what-if.ts (proposed server changes) not
 *              applied to server/ yet; --what-if=retained-index,statement-cache picks some
 *   --long     connect phases and storms bounded to 15 minutes instead of 8 (how far the shipped code goes)
 *   --keep     keep the scratch folder (databases, profiles)
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBookings } from './bookings.js';
import { benchConnections } from './connections.js';
import { benchEvents } from './events.js';
import type { BenchContext } from './harness.js';
import { BenchChild } from './ipc.js';
import { describeMachine, loadavg, say } from './stats.js';
import { benchStorm } from './storm.js';
import { benchUnlock } from './unlock.js';
import { TARGETS, judge, type Verdict } from './targets.js';
import { PATCHES, PENDING, parseWhatIf, type Patch } from './what-if.js';

const BENCHMARKS = {
  bookings: benchBookings,
  events: benchEvents,
  connections: benchConnections,
  unlock: benchUnlock,
  storm: benchStorm,
} as const;
type Name = keyof typeof BENCHMARKS;

interface Args {
  quick: boolean;
  profile: boolean;
  whatIf: readonly Patch[];
  long: boolean;
  keep: boolean;
  names: Name[];
}

const USAGE = `usage: npm run bench -- [--quick] [--profile] [--what-if[=patch,…]] [--long] [--keep] [${Object.keys(BENCHMARKS).join('|')} …]`;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, profile: false, whatIf: [], long: false, keep: false, names: [] };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--profile') args.profile = true;
    else if (a.startsWith('--what-if')) {
      const patches = parseWhatIf(a);
      if (!patches) {
        say(`unknown patch in "${a}" (known: ${PATCHES.join(', ')})\n${USAGE}`);
        process.exit(2);
      }
      args.whatIf = patches;
    }
    else if (a === '--long') args.long = true;
    else if (a === '--keep') args.keep = true;
    else if (a === '--help' || a === '-h') {
      say(USAGE);
      process.exit(0);
    } else if (Object.hasOwn(BENCHMARKS, a)) {
      if (!args.names.includes(a as Name)) args.names.push(a as Name);
    } else {
      say(`unknown argument "${a}"\n${USAGE}`);
      process.exit(2);
    }
  }
  if (args.names.length === 0) args.names = Object.keys(BENCHMARKS) as Name[];
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const machine = describeMachine();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-'));
  const profileDir = args.profile ? path.join(tmp, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: BenchContext = { quick: args.quick, long: args.long, whatIf: args.whatIf, tmp, profileDir };
  const flags = [args.quick && '--quick', args.profile && '--profile', args.whatIf.length > 0 && (args.whatIf.join() === PENDING.join() ? '--what-if' : `--what-if=${args.whatIf.join(',')}`), args.long && '--long'].filter((f): f is string => typeof f === 'string');
  const command = `npm run bench${flags.length || args.names.length < Object.keys(BENCHMARKS).length ? ` -- ${[...flags, ...(args.names.length < Object.keys(BENCHMARKS).length ? args.names : [])].join(' ')}` : ''}`;
  say(command);
  say(`machine: ${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadavgAtStart.join(' ')}`);
  const started = Date.now();
  const results: Record<string, unknown> = {};
  const loads: Record<string, { before: number[]; after: number[]; seconds: number }> = {};
  const verdicts: Verdict[] = [];
  let failed = false;
  for (const name of args.names) {
    const t0 = Date.now();
    const before = loadavg();
    say(`\n== ${name} ==`);
    try {
      // Each benchmark bounds its own phases; this is the backstop (connections steps up for up to ~25 minutes).
      const limitMs = (args.long ? 90 : args.quick ? 5 : 40) * 60_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not finish within ${limitMs / 60_000} minutes`)), limitMs);
      });
      const result = await Promise.race([BENCHMARKS[name](ctx), timeout]).finally(() => clearTimeout(timer));
      results[name] = result;
      verdicts.push(...judge(name, result));
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
