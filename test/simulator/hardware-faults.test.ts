import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../simulator/run-simulation.js';
import { validateScenario } from '../../simulator/scenario.js';

// Its own file (one long run): files run in parallel, the tests of one file one after the other.
describe('a scenario with hardware faults', () => {
  it('jammed latches, power cuts, forced doors and doors left open break no invariant', async () => {
    const faulty = validateScenario({
      name: 'test-faults',
      seed: 3,
      fleet: { lockers: 4 },
      traffic: { parcelsPerLocker: 3, hourMs: 500, hourly: [1, 1, 1, 1, 1, 1] },
      faults: { jams: { share: 0.2 }, powerCuts: { count: 2, downMs: 500 }, forcedOpens: { count: 3 }, doorsLeftOpen: { share: 0.1, holdMs: 1500 } },
    });
    const report = await runSimulation({ scenario: faulty });
    expect(report.violations).toEqual([]);
    expect(report.problems).toEqual([]);
    const p = report.parcels;
    expect(p.booked).toBe(12);
    expect(p.booked).toBe(p.inTransit + p.inLockers + p.pickedUp + p.returned + p.cancelled);
    // A jammed deposit goes on in another compartment with the same code; one that still fails counts as faulted.
    expect(p.pickedUp + p.faulted).toBe(12);
    expect(report.faults).toMatchObject({ powerCuts: 2, forcedOpens: 3 });
    expect(report.faults.jams).toBeGreaterThan(0);
    expect(report.events.committed).toBe(report.events.recorded);
  }, 120_000);
});
