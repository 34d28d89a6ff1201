import type { LockerView } from '../shared/api/lockers.js';
import type { Books } from './checker.js';
import { percentiles, round1, type Aggregate, type Percentiles, type TimelinePoint } from './metrics.js';
import type { RunSpec } from './plan.js';
import type { ShardResult } from './shard.js';

export interface SimulationReport {
  scenario: string | null;
  seed: number;
  lockers: number;
  /** Child processes that hosted the lockers (0: all in the simulator's process). */
  workers: number;
  /** booked = inTransit + inLockers + pickedUp + returned + cancelled (the checker verifies it). */
  parcels: Books & { planned: number; deposited: number; failed: number; faulted: number };
  codes: { accepted: number; rejected: number } | null;
  events: { recorded: number; committed: number; resent: number; resentBatches: number; duplicatesIgnored: number | null };
  /** `jams`: deposits planned to find their latch jammed (the agent moves them to another compartment). */
  faults: { outages: number; networkCuts: number; crashes: number; storm: boolean; powerCuts: number; forcedOpens: number; jams: number };
  throughput: { bookingsPerSec: number; eventsCommittedPerSec: number; peakBookingsPerSec: number; peakEventsCommittedPerSec: number };
  /** Real milliseconds: the booking request, the device's unlock decision (code in → latch released), event recorded → ack after commit. */
  latencyMs: { booking: Percentiles; unlock: Percentiles; commit: Percentiles };
  /** `readRetries`: API reads sent again after no server answered or one answered 502/503/504. */
  connections: { lockers: number; peakConnected: number; failovers: number; readRetries: number };
  memory: { process: string; rssPeakMb: number; heapPeakMb: number }[];
  phasesMs: { register: number; traffic: number; converge: number };
  /** From the last person leaving to every event committed. */
  convergeMs: number;
  durationMs: number;
  problemCount: number;
  /** The first 200 problems. */
  problems: string[];
  violations: string[];
  timeline: TimelinePoint[];
  /** Firmware rollout scenarios (issue 19): where the rollout ended. */
  rollout?: { target: number; updated: number; failed: number; halted: boolean; state: string; wave: number; haltedReason: string | null; failures: Record<string, number> };
}

export interface ReportInput {
  spec: RunSpec;
  results: readonly ShardResult[];
  books: Books;
  views: readonly LockerView[];
  aggregate: Aggregate;
  violations: string[];
  problems: string[];
  faults: { outages: number; storm: boolean; crashes: number; jams: number };
  duplicatesIgnored: number | null;
  phases: { registerMs: number; trafficMs: number; convergeMs: number };
  durationMs: number;
  failovers: number;
  /** Firmware rollout scenarios (issue 19). */
  rollout?: SimulationReport['rollout'];
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

export function buildReport(r: ReportInput): SimulationReport {
  const { aggregate: a, results } = r;
  const codes = results.every((x) => x.codes)
    ? { accepted: results.reduce((n, x) => n + (x.codes?.accepted ?? 0), 0), rejected: results.reduce((n, x) => n + (x.codes?.rejected ?? 0), 0) }
    : null;
  const trafficSec = Math.max(0.001, r.phases.trafficMs / 1000);
  const busy = a.timeline.filter((p) => p.hour !== null);
  return {
    scenario: r.spec.name === 'flags' ? null : r.spec.name,
    seed: r.spec.seed,
    lockers: results.reduce((n, x) => n + x.devices.length, 0),
    workers: r.spec.workers,
    parcels: { ...r.books, planned: r.spec.parcels, deposited: a.totals.deposited, failed: a.totals.failed, faulted: a.totals.faulted },
    codes,
    events: {
      recorded: results.reduce((n, x) => n + x.devices.reduce((m, d) => m + d.lastSeq, 0), 0),
      committed: r.views.reduce((n, l) => n + l.events.received, 0),
      resent: results.reduce((n, x) => n + x.resent, 0),
      resentBatches: results.reduce((n, x) => n + x.resentBatches, 0),
      duplicatesIgnored: r.duplicatesIgnored,
    },
    faults: {
      outages: r.faults.outages,
      networkCuts: results.reduce((n, x) => n + x.networkCuts, 0),
      crashes: r.faults.crashes,
      storm: r.faults.storm,
      powerCuts: results.reduce((n, x) => n + x.powerCuts, 0),
      forcedOpens: results.reduce((n, x) => n + x.forcedOpens, 0),
      jams: r.faults.jams,
    },
    throughput: {
      bookingsPerSec: round1(a.totals.booked / trafficSec),
      eventsCommittedPerSec: round1(a.totals.committed / trafficSec),
      peakBookingsPerSec: Math.max(0, ...busy.map((p) => p.bookingsPerSec)),
      peakEventsCommittedPerSec: Math.max(0, ...a.timeline.map((p) => p.commitsPerSec)),
    },
    latencyMs: { booking: percentiles(a.samples.booking), unlock: percentiles(a.samples.unlock), commit: percentiles(a.samples.commit) },
    connections: { lockers: r.spec.lockers, peakConnected: a.peakConnected, failovers: r.failovers + results.reduce((n, x) => n + x.failovers, 0), readRetries: a.totals.readRetries },
    memory: [...a.memory].map(([process, m]) => ({ process, rssPeakMb: mb(m.rssPeak), heapPeakMb: mb(m.heapPeak) })),
    phasesMs: { register: r.phases.registerMs, traffic: r.phases.trafficMs, converge: r.phases.convergeMs },
    convergeMs: r.phases.convergeMs,
    durationMs: r.durationMs,
    problemCount: r.problems.length,
    problems: r.problems.slice(0, 200),
    violations: r.violations,
    timeline: a.timeline,
    ...(r.rollout ? { rollout: r.rollout } : {}),
  };
}
