import type { BookingsResult } from './bookings.js';
import type { ConnectionsResult } from './connections.js';
import type { EventsResult } from './events.js';
import { pct } from './stats.js';
import type { StormResult } from './storm.js';
import type { UnlockResult } from './unlock.js';

/** The targets of issue 6 for this 2-core machine, and the architecture's bar for the unlock decision. */
export const TARGETS = {
  bookings: 'bookings ≥ 50 % of the signing-bound limit (half the raw node:crypto Ed25519 rate)',
  events: 'committed device events ≥ 50 % of bare aedes QoS 1 throughput',
  connections: '≥ 10,000 connected lockers on one process, heartbeats recorded',
  unlock: 'the unlock decision does not wait for the network (offline p99 ≤ 1.5 × online p99 + 10 ms)',
  storm: 'a reconnect storm of 10,000 lockers absorbed with nothing lost',
} as const;

export interface Verdict {
  target: string;
  /** null: not judged (a quick run measures fewer lockers than the target names). */
  met: boolean | null;
  figure: string;
}

export function judge(name: string, result: unknown): Verdict[] {
  switch (name) {
    case 'bookings': {
      const r = result as BookingsResult;
      return [
        {
          target: TARGETS.bookings,
          met: r.ratios.vsSigningBound >= 0.5,
          figure: `${r.bookings.rps}/s = ${pct(r.ratios.vsSigningBound)} of ${r.signingBound}/s (${pct(r.ratios.vsBareFastify)} of bare Fastify ${r.bareFastify.rps}/s)`,
        },
      ];
    }
    case 'events': {
      const r = result as EventsResult;
      return [
        {
          target: TARGETS.events,
          met: r.ratios.vsBareAedes >= 0.5 && r.lockstep.lost === 0,
          figure: `${r.lockstep.eventsPerSec}/s = ${pct(r.ratios.vsBareAedes)} of ${r.bareAedes.eventsPerSec}/s; lost ${r.lockstep.lost}`,
        },
      ];
    }
    case 'connections': {
      const r = result as ConnectionsResult;
      const first = r.lockstep.steps[0];
      return [
        {
          target: TARGETS.connections,
          met: (first?.added ?? 0) < 10_000 ? null : r.lockstep.maxHeld >= 10_000,
          figure: `held ${r.lockstep.maxHeld} (${r.lockstep.stoppedBecause})`,
        },
      ];
    }
    case 'unlock': {
      const r = result as UnlockResult;
      return [
        {
          target: TARGETS.unlock,
          met: r.offline.p99 <= 1.5 * r.online.p99 + 10,
          figure: `p99 online ${r.online.p99} ms, offline ${r.offline.p99} ms`,
        },
      ];
    }
    case 'storm': {
      const r = result as StormResult;
      const s = r.shipped;
      return [
        {
          target: TARGETS.storm,
          met: r.lockers < 10_000 ? null : s.absorbed && s.lost === 0,
          figure: `${r.lockers} lockers, ${s.committed} of ${r.events} committed${s.stalled ? ', server STALLED' : ''}${s.crashed ? `, server CRASHED (${s.crashed})` : ''}, lost ${s.lost}${s.ackAllMs >= 0 ? `, all acknowledged in ${s.ackAllMs} ms` : ''}`,
        },
      ];
    }
    default:
      return [];
  }
}
