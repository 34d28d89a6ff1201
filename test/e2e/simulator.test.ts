import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runSimulation } from '../../simulator/run-simulation.js';

const run = promisify(execFile);
const tsx = ['node_modules/.bin/tsx', 'simulator/cli.ts'];

describe('simulator', () => {
  it('takes 30 parcels through 3 lockers with no broken invariant', async () => {
    const report = await runSimulation({ lockers: 3, parcels: 30, seed: 1 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 30, deposited: 30, pickedUp: 30, inTransit: 0, inLockers: 0, failed: 0 });
    expect(report.codes?.accepted).toBe(60);
    expect(report.events.committed).toBe(report.events.recorded);
  }, 60_000);

  it('takes 60 parcels through 6 lockers while 60% lose their network and 3 agents are killed mid-flow', async () => {
    const report = await runSimulation({ lockers: 6, parcels: 60, seed: 1, outages: 0.6, crashes: 3 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 60, pickedUp: 60, failed: 0 });
    expect(report.faults).toMatchObject({ outages: 4, crashes: 3 });
    expect(report.faults.networkCuts).toBeGreaterThanOrEqual(4);
    expect(report.events.committed).toBe(report.events.recorded);
  }, 180_000);

  it('returns the parcels nobody came for: 40 parcels, 25 % no-shows, seed 11', async () => {
    const report = await runSimulation({ lockers: 4, parcels: 40, seed: 11, noShow: 0.25 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 40, pickedUp: 30, returned: 10, inTransit: 0, inLockers: 0, cancelled: 0 });
  }, 120_000);

  it('prints one JSON report on stdout and progress on stderr', async () => {
    const { stdout, stderr } = await run(tsx[0]!, [tsx[1]!, '--lockers', '2', '--parcels', '6', '--seed', '3', '--json'], { timeout: 60_000 });
    const report = JSON.parse(stdout) as { parcels: { booked: number; pickedUp: number }; violations: string[] };
    expect(report.parcels).toMatchObject({ booked: 6, pickedUp: 6 });
    expect(report.violations).toEqual([]);
    expect(stderr).toContain('picked up 6');
  }, 60_000);

  it('refuses bad arguments with a coded error and exit code 2', async () => {
    const err = await run(tsx[0]!, [tsx[1]!, '--lockers', 'many']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('SIM_BAD_ARGUMENT');
  });
});
