/** Command line of `npm run bench`: parsed with node:util parseArgs; anything unknown is a coded error. */
import { parseArgs } from 'node:util';

export const BENCHMARK_NAMES = ['bookings', 'events', 'connections', 'unlock', 'storm'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface BenchArgs {
  quick: boolean;
  profile: boolean;
  long: boolean;
  keep: boolean;
  help: boolean;
  /** In the order given, without repeats; every benchmark when none is named. */
  names: BenchmarkName[];
  /** Scale (issue 18): `connections --fleet N` runs a multi-process deployment (bench/fleet.ts) holding N lockers. */
  fleet?: number;
  processes?: number;
  heartbeatSec?: number;
  /** With --fleet: Lockstep's side alone, without the bare aedes side (and its ratios). */
  noBare: boolean;
  /** How long the fleet's connects (and a storm's reconnects) may take, each side; default 10 ms per locker, at least 2 or 4 minutes. */
  boundSec?: number;
  /** How long a storm may go without anything committed, acknowledged or reconnected before it is called stalled (default 120 s). */
  stallSec?: number;
}

export const USAGE = `usage: npm run bench -- [--quick] [--profile] [--long] [--keep] [--fleet N [--processes P] [--heartbeat-sec S] [--bound-sec B] [--stall-sec S] [--no-bare]] [${BENCHMARK_NAMES.join('|')} …]`;

export class BenchArgumentError extends Error {
  readonly code = 'BENCH_BAD_ARGUMENT';
}

function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARK_NAMES as readonly string[]).includes(name);
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        long: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        fleet: { type: 'string' },
        processes: { type: 'string' },
        'heartbeat-sec': { type: 'string' },
        'bound-sec': { type: 'string' },
        'stall-sec': { type: 'string' },
        'no-bare': { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new BenchArgumentError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const names: BenchmarkName[] = [];
  for (const p of positionals) {
    if (!isBenchmarkName(p)) throw new BenchArgumentError(`unknown benchmark "${p}" (known: ${BENCHMARK_NAMES.join(', ')})`);
    if (!names.includes(p)) names.push(p);
  }
  const count = (flag: string, v: string | undefined, max: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new BenchArgumentError(`--${flag} must be an integer from 1 to ${max}, got "${v}"`);
    return n;
  };
  const fleet = count('fleet', values.fleet, 1_000_000);
  const processes = count('processes', values.processes, 64);
  const heartbeatSec = count('heartbeat-sec', values['heartbeat-sec'], 3600);
  const boundSec = count('bound-sec', values['bound-sec'], 4 * 3600);
  const stallSec = count('stall-sec', values['stall-sec'], 4 * 3600);
  if (fleet !== undefined && (names.length === 0 || names.some((n) => n !== 'connections' && n !== 'storm' && n !== 'events' && n !== 'bookings'))) {
    throw new BenchArgumentError('--fleet goes with the connections, events, storm and bookings benchmarks alone (any of them)');
  }
  if ((processes !== undefined || heartbeatSec !== undefined || boundSec !== undefined || stallSec !== undefined || values['no-bare']) && fleet === undefined) {
    throw new BenchArgumentError('--processes, --heartbeat-sec, --bound-sec, --stall-sec and --no-bare go with --fleet');
  }
  if (stallSec !== undefined && !names.includes('storm')) throw new BenchArgumentError('--stall-sec goes with the storm benchmark');
  return {
    quick: values.quick, profile: values.profile, long: values.long, keep: values.keep, help: values.help, noBare: values['no-bare'], names: names.length ? names : [...BENCHMARK_NAMES],
    ...(fleet !== undefined ? { fleet } : {}),
    ...(processes !== undefined ? { processes } : {}),
    ...(heartbeatSec !== undefined ? { heartbeatSec } : {}),
    ...(boundSec !== undefined ? { boundSec } : {}),
    ...(stallSec !== undefined ? { stallSec } : {}),
  };
}
