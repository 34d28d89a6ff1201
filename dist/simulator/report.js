import { percentiles, round1 } from './metrics.js';
const mb = (bytes) => Math.round(bytes / 1e5) / 10;
export function buildReport(r) {
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
    };
}
//# sourceMappingURL=report.js.map