import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runSimulation } from '../../simulator/run-simulation.js';
import { validateScenario } from '../../simulator/scenario.js';

const run = promisify(execFile);

/** Twenty lockers over six short virtual hours, with a storm in the middle: small enough for a test. */
const scenario = validateScenario({
  name: 'test-small',
  seed: 5,
  fleet: { lockers: 20, compartments: [{ size: 'S', count: 2 }, { size: 'M', count: 1 }, { size: 'L', count: 1 }] },
  traffic: { parcelsPerLocker: 1, hourMs: 400, hourly: [1, 3, 4, 3, 1, 1], qrShare: 0.3, pickupAfterHours: { min: 0, max: 1 } },
  faults: { storm: { atHour: 2, downMs: 600 } },
});

describe('a scenario run', () => {
  it('takes 20 lockers through a short day with a storm: the books balance, nothing is violated, the figures are there', async () => {
    const report = await runSimulation({ scenario });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    const p = report.parcels;
    expect(p).toMatchObject({ planned: 20, booked: 20, pickedUp: 20, failed: 0 });
    expect(p.booked).toBe(p.inTransit + p.inLockers + p.pickedUp + p.returned + p.cancelled);
    expect(report).toMatchObject({ scenario: 'test-small', lockers: 20, workers: 0, faults: { storm: true, networkCuts: 20 } });
    expect(report.events.committed).toBe(report.events.recorded);
    // Every resent batch carried at least one event.
    expect(report.events.resentBatches).toBeLessThanOrEqual(report.events.resent);
    expect(report.latencyMs.booking.count).toBe(20);
    expect(report.latencyMs.unlock.count).toBe(40);
    expect(report.latencyMs.commit.count).toBeGreaterThan(0);
    for (const k of ['booking', 'unlock', 'commit'] as const) {
      const l = report.latencyMs[k];
      expect(l.p50).not.toBeNull();
      expect(l.p50!).toBeLessThanOrEqual(l.p90!);
      expect(l.p90!).toBeLessThanOrEqual(l.p99!);
    }
    expect(report.throughput.bookingsPerSec).toBeGreaterThan(0);
    expect(report.throughput.eventsCommittedPerSec).toBeGreaterThan(0);
    expect(report.connections.peakConnected).toBe(20);
    expect(report.memory.find((m) => m.process === 'main')?.rssPeakMb).toBeGreaterThan(0);
    expect(report.timeline.some((t) => t.hour === 5)).toBe(true);
  }, 90_000);

  // The only run of the CLI: one JSON report on stdout, progress on stderr, the files.
  it('the CLI runs a scenario across worker processes, flags overriding it, and writes the JSON and the HTML page', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-sim-cli-'));
    const file = path.join(dir, 'small.json');
    writeFileSync(file, JSON.stringify({ ...scenario, faults: {} }));
    const out = path.join(dir, 'out', 'report.json');
    const { stdout, stderr } = await run(
      'node_modules/.bin/tsx',
      ['simulator/cli.ts', '--scenario', file, '--lockers', '6', '--parcels', '12', '--workers', '2', '--json', '--out', out],
      { timeout: 80_000 },
    );
    const report = JSON.parse(stdout) as { lockers: number; workers: number; parcels: { booked: number; pickedUp: number }; violations: string[]; memory: { process: string }[] };
    expect(report).toMatchObject({ lockers: 6, workers: 2, parcels: { booked: 12, pickedUp: 12 }, violations: [] });
    expect(report.memory.map((m) => m.process).sort()).toEqual(['main', 'worker 0', 'worker 1']);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ parcels: { booked: 12 } });
    expect(stderr).toContain('picked up 12');
    const html = readFileSync(path.join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    for (const title of ['Throughput', 'Latency p50 / p90', 'Open parcels']) expect(html).toContain(title);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<polyline');
    // Self-contained: nothing loaded from elsewhere.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
  }, 90_000);
});
