import { describe, expect, it } from 'vitest';
import { BENCHMARK_NAMES, parseBenchArgs } from '../../bench/run-args.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('bench command line', () => {
  it('runs every benchmark, in order, when none is named', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, profile: false, long: false, keep: false, help: false, noBare: false, names: [...BENCHMARK_NAMES] });
  });

  it('takes flags anywhere and named benchmarks once each, in the order given', () => {
    const args = parseBenchArgs(['storm', '--quick', 'events', 'storm', '--keep']);
    expect(args).toMatchObject({ quick: true, keep: true, profile: false, long: false, names: ['storm', 'events'] });
    expect(parseBenchArgs(['-h']).help).toBe(true);
  });

  it('refuses an unknown flag, a value on a switch and an unknown benchmark with BENCH_BAD_ARGUMENT', () => {
    expect(codeOf(() => parseBenchArgs(['--what-if']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['--quick=yes']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['bogus']))).toBe('BENCH_BAD_ARGUMENT');
  });

  it('takes --fleet with connections, events, storm and bookings (any of them), and its own options only with it', () => {
    expect(parseBenchArgs(['connections', 'storm', '--fleet', '170000', '--processes', '12', '--heartbeat-sec', '120', '--bound-sec', '2700'])).toMatchObject({
      names: ['connections', 'storm'],
      fleet: 170_000,
      processes: 12,
      heartbeatSec: 120,
      boundSec: 2700,
    });
    expect(parseBenchArgs(['storm', '--fleet', '1000'])).toMatchObject({ names: ['storm'], fleet: 1000 });
    expect(codeOf(() => parseBenchArgs(['--fleet', '1000']))).toBe('BENCH_BAD_ARGUMENT');
    expect(parseBenchArgs(['events', '--fleet', '1000']).names).toEqual(['events']);
    expect(parseBenchArgs(['bookings', '--fleet', '1000']).names).toEqual(['bookings']);
    expect(codeOf(() => parseBenchArgs(['unlock', '--fleet', '1000']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['connections', '--heartbeat-sec', '30']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['connections', '--fleet', '1000', '--heartbeat-sec', '0']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['connections', '--bound-sec', '600']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['connections', '--fleet', '1000', '--bound-sec', '1.5']))).toBe('BENCH_BAD_ARGUMENT');
    expect(parseBenchArgs(['storm', '--fleet', '1000', '--no-bare']).noBare).toBe(true);
    expect(parseBenchArgs(['storm', '--fleet', '1000']).noBare).toBe(false);
    expect(codeOf(() => parseBenchArgs(['storm', '--no-bare']))).toBe('BENCH_BAD_ARGUMENT');
    expect(parseBenchArgs(['connections', 'storm', '--fleet', '1000', '--stall-sec', '900']).stallSec).toBe(900);
    expect(codeOf(() => parseBenchArgs(['connections', '--fleet', '1000', '--stall-sec', '900']))).toBe('BENCH_BAD_ARGUMENT');
    expect(codeOf(() => parseBenchArgs(['storm', '--stall-sec', '900']))).toBe('BENCH_BAD_ARGUMENT');
  });
});
