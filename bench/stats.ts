import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles (the smallest value with at least q of the samples at or below it); zeros when empty. */
export function percentiles(values: readonly number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(v[Math.max(0, Math.ceil(q * v.length) - 1)] ?? 0, 2);
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(v[v.length - 1] ?? 0, 2) };
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((n, x) => n + x, 0);
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** `figure / limit`, as a fraction with three digits (0.412 = 41.2 % of the limit). */
export function ratio(figure: number, limit: number): number {
  return limit > 0 ? round(figure / limit, 3) : 0;
}

export function pct(r: number): string {
  return `${(r * 100).toFixed(1)} %`;
}

export function mib(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the run started (the machine is shared). */
  loadavgAtStart: number[];
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavgAtStart: loadavg(),
  };
}

export function loadavg(): number[] {
  return os.loadavg().map((l) => round(l, 2));
}

/** Progress and results for people go to stderr; stdout carries only the final JSON. */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it is true or `timeoutMs` passes; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
