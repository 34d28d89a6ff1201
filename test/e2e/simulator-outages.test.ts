import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../simulator/run-simulation.js';

// Its own file (one long run): files run in parallel, the tests of one file one after the other.
describe('simulator', () => {
  it('takes 60 parcels through 6 lockers while 60% lose their network and 3 agents are killed mid-flow', async () => {
    const report = await runSimulation({ lockers: 6, parcels: 60, seed: 1, outages: 0.6, crashes: 3 });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.parcels).toMatchObject({ booked: 60, pickedUp: 60, failed: 0 });
    expect(report.faults).toMatchObject({ outages: 4, crashes: 3 });
    expect(report.faults.networkCuts).toBeGreaterThanOrEqual(4);
    expect(report.events.committed).toBe(report.events.recorded);
  }, 180_000);
});
