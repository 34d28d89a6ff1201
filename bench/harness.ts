import { mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import type { FleetCredential } from './credentials.js';
import type { FleetConfig } from './mqtt-fleet.js';
import type { HostConfig, HostStats } from './host.js';
import { BenchChild, benchEntry, type Note } from './ipc.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import { say, sleep } from './stats.js';

export interface BenchContext {
  quick: boolean;
  /** Longer bounds (connect phases up to 15 minutes): to see how far the shipped code goes, not for every run. */
  long: boolean;
  /** Scratch folder of this run (databases, device stores). */
  tmp: string;
  /** When set, the measured window of every Lockstep server side is CPU-profiled and summarised. */
  profileDir: string | undefined;
}

export interface Host {
  label: string;
  kind: HostConfig['kind'];
  child: BenchChild;
  httpUrl: string;
  mqttUrl: string;
  mqttPort: number;
  adminToken: string;
  stats(reset?: boolean): Promise<HostStats>;
  /** RSS and heap after two full GCs. */
  memory(): Promise<{ rss: number; heapUsed: number }>;
}

function progressNote(label: string): (n: Note) => void {
  let last = 0;
  return (n) => {
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    const extra = Object.entries(n)
      .filter(([k]) => k !== 'note' && k !== 'what')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
    say(`  [${label}] ${String(n.what ?? n.note)}: ${extra}`);
  };
}

/** Starts a server side in a process of its own. */
export async function startHost(ctx: BenchContext, config: HostConfig, label: string): Promise<Host> {
  void ctx;
  const { child, ready } = await BenchChild.start(benchEntry('host.ts'), config, {
    onNote: progressNote(label),
  });
  const mqttUrl = typeof ready.mqttUrl === 'string' ? ready.mqttUrl : '';
  return {
    label,
    kind: config.kind,
    child,
    httpUrl: typeof ready.httpUrl === 'string' ? ready.httpUrl : '',
    mqttUrl,
    mqttPort: mqttUrl ? Number(new URL(mqttUrl).port) : 0,
    adminToken: typeof ready.adminToken === 'string' ? ready.adminToken : '',
    stats: (reset = false) => child.request<HostStats>('stats', { reset }),
    memory: () => child.request('memory'),
  };
}

const REGISTER_CHUNK = 2000;
const REGISTER_TIMEOUT_MS = 120_000;

/**
 * Registers and enrols `count` lockers on a Lockstep host, in chunks, each with a deadline: a server that stops
 * answering fails the benchmark with a clear message instead of holding the run.
 */
export async function registerLockers(host: Host, count: number, compartments: readonly { id: string; size: string }[]): Promise<FleetCredential[]> {
  const out: FleetCredential[] = [];
  while (out.length < count) {
    const n = Math.min(REGISTER_CHUNK, count - out.length);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${host.label}: no answer within ${REGISTER_TIMEOUT_MS / 1000} s while registering lockers (${out.length} of ${count} done)`)), REGISTER_TIMEOUT_MS);
    });
    const chunk = await Promise.race([host.child.request<FleetCredential[]>('register', { count: n, compartments }), deadline]).finally(() => clearTimeout(timer));
    out.push(...chunk);
  }
  return out;
}

export async function stopHost(host: Host): Promise<void> {
  await host.child.stop();
}

export async function startFleet(config: FleetConfig, label: string): Promise<BenchChild> {
  const nice = clientNice();
  const { child } = await BenchChild.start(benchEntry('mqtt-fleet.ts'), config, { onNote: progressNote(label) });
  if (nice > 0 && child.pid !== undefined) setPriority(child.pid, nice);
  return child;
}

/** An integer setting of the bench from the environment, within [min, max]; `fallback` when unset. */
function benchEnvInt(name: string, min: number, max: number, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/**
 * BENCH_CLIENT_NICE (0–19, default 0): the scheduling priority the client processes (the simulated lockers) run at.
 * On one machine they share the cores with the servers they load, at an equal share each by default; real lockers
 * bring their own CPUs. At 170,000 the 12 client processes' retries took as much CPU as the 12 servers (docs/scale.md).
 */
export function clientNice(): number {
  return benchEnvInt('BENCH_CLIENT_NICE', 0, 19, 0);
}

/**
 * BENCH_CLIENT_CONNECTS (default 0: no limit): at most so many lockers of each client process connecting at once
 * (bench/light-locker.ts), so that a client process flooded with retries still sends each attempt's CONNECT promptly.
 */
export function clientConnectSlots(): number {
  return benchEnvInt('BENCH_CLIENT_CONNECTS', 0, 100_000, 0);
}

export interface WindowResult {
  /** Server CPU time in the window, as a share of one core. */
  cpu: number;
  /** Of which system time (kernel: sockets, fsync). */
  cpuSystem: number;
  ms: number;
  before: HostStats;
  after: HostStats;
  profile?: ProfileSummary;
}

/**
 * The measured window on the server side: opens after `warmupMs` (CPU time read, profiler started when the
 * run profiles a Lockstep server); `close()` reads the CPU time again and summarises the profile.
 */
export function serverWindow(ctx: BenchContext, host: Host, warmupMs: number, name = host.label): { opened: Promise<void>; close(): Promise<WindowResult> } {
  const profile = ctx.profileDir !== undefined && host.kind === 'lockstep';
  const open = sleep(warmupMs).then(async () => {
    if (profile) await host.child.request('profileStart');
    return { stats: await host.stats(), at: performance.now() };
  });
  // A server that dies inside the window is reported by whoever watches it, not by an unhandled rejection.
  open.catch(() => undefined);
  return {
    opened: open.then(() => undefined),
    async close() {
      const start = await open;
      const after = await host.stats();
      const ms = performance.now() - start.at;
      const share = (us: number) => (ms > 0 ? Math.round((us / 1000 / ms) * 1000) / 1000 : 0);
      const cpu = share(after.cpuUs - start.stats.cpuUs);
      const cpuSystem = share(after.cpuSystemUs - start.stats.cpuSystemUs);
      let summary: ProfileSummary | undefined;
      if (profile && ctx.profileDir) {
        mkdirSync(ctx.profileDir, { recursive: true });
        const file = path.join(ctx.profileDir, `${name}.cpuprofile`);
        await host.child.request('profileStop', { file });
        summary = summariseProfile(file);
        for (const line of formatProfile(summary)) say(line);
      }
      return { cpu, cpuSystem, ms, before: start.stats, after, ...(summary ? { profile: summary } : {}) };
    },
  };
}

/** Microseconds of server CPU per operation. */
export function cpuPerOp(cpuShare: number, opsPerSec: number): number {
  return opsPerSec > 0 ? Math.round((cpuShare * 1e6) / opsPerSec) : 0;
}
