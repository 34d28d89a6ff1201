import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runSimulation } from '../../simulator/run-simulation.js';

const run = promisify(execFile);
const tsx = ['node_modules/.bin/tsx', 'simulator/cli.ts'];

describe('simulator', () => {
  // The plain flow (book, deposit, pick up, every code accepted once, every event committed) and the no-shows, in one run.
  it('takes 40 parcels through 4 lockers and returns the ones nobody came for (25 % no-shows, seed 11) with no broken invariant', async () => {
    const report = await runSimulation({ lockers: 4, parcels: 40, seed: 11, noShow: 0.25 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 40, deposited: 40, pickedUp: 30, returned: 10, inTransit: 0, inLockers: 0, cancelled: 0, failed: 0 });
    // Each code accepted once: a drop-off code per parcel, a pickup code per parcel picked up, a collection code per return.
    expect(report.codes?.accepted).toBe(80);
    expect(report.events.committed).toBe(report.events.recorded);
  }, 120_000);

  // The CLI's JSON report on stdout and progress on stderr: test/simulator/scenario-run.test.ts runs it once.

  it('refuses bad arguments with a coded error and exit code 2', async () => {
    const err = await run(tsx[0]!, [tsx[1]!, '--lockers', 'many']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('SIM_BAD_ARGUMENT');
  });
});
