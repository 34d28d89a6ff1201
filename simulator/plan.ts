import type { CompartmentSize } from '../shared/compartment-sizes.js';
import { DEFAULT_COMPARTMENTS } from './fleet.js';
import { seededRandom } from './random.js';
import type { Scenario } from './scenario.js';

/** Everything a run needs, after flags and scenario file are combined (see run-simulation.ts). */
export interface RunSpec {
  name: string;
  lockers: number;
  parcels: number;
  seed: number;
  compartments: readonly { id: string; size: CompartmentSize }[];
  /** Real ms per virtual hour; 0 = every parcel starts at once. */
  hourMs: number;
  hourly: readonly number[];
  sizes: Partial<Record<CompartmentSize, number>>;
  qrShare: number;
  noShow: number;
  pickupAfterHours: { min: number; max: number };
  /** Share of lockers cut once; `outageMs` null = the classic 1–4 s cut within the first 3 s. */
  outages: number;
  outageMs: number | null;
  storm: { atHour: number; downMs: number } | null;
  jams: number;
  forcedOpens: number;
  doorsLeftOpen: { share: number; holdMs: number } | null;
  powerCuts: { count: number; downMs: number } | null;
  crashes: number;
  processes: boolean;
  workers: number;
  /** Firmware rollout after the traffic (issue 19), or null. */
  firmwareRollout: Scenario['firmwareRollout'] | null;
}

/** One parcel's journey as planned: who books where, when (real ms after traffic starts), how people behave. */
export interface FlowPlan {
  i: number;
  locker: number;
  size: CompartmentSize;
  qrDropoff: boolean;
  qrPickup: boolean;
  startMs: number;
  pickupAfterMs: number;
  holdMs: number;
  noShow: boolean;
  /** The latch of the booked compartment is jammed when the courier comes. */
  jam: boolean;
  reference: string;
}

export interface FaultPlan {
  outages: { locker: number; startMs: number; durationMs: number }[];
  storm: { startMs: number; downMs: number } | null;
  forcedOpens: { locker: number; atMs: number }[];
  powerCuts: { locker: number; atMs: number; downMs: number }[];
}

const DEFAULT_SIZES: Partial<Record<CompartmentSize, number>> = { S: 3, M: 2, L: 1 };

/** Compartment list from a size mix: A1, A2… for the first size, B1… for the next. */
export function compartmentsFrom(mix: readonly { size: CompartmentSize; count: number }[] | undefined) {
  if (!mix) return DEFAULT_COMPARTMENTS;
  return mix.flatMap((m, row) => Array.from({ length: m.count }, (_, i) => ({ id: `${String.fromCharCode(65 + row)}${i + 1}`, size: m.size })));
}

/** Real ms the traffic profile lasts. */
export const profileMs = (s: RunSpec) => s.hourMs * s.hourly.length;

/**
 * Plans every parcel from the seed: how many start in each virtual hour (the hourly weights, largest remainder),
 * when within it, at which locker (round robin), what size, who never comes, which latch is jammed.
 */
export function planFlows(s: RunSpec): FlowPlan[] {
  const random = seededRandom(s.seed);
  const total = s.hourly.reduce((a, b) => a + b, 0);
  const exact = s.hourly.map((w) => (w / total) * s.parcels);
  const perHour = exact.map(Math.floor);
  let left = s.parcels - perHour.reduce((a, b) => a + b, 0);
  for (const h of exact.map((x, h) => ({ h, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r)) {
    if (left-- <= 0) break;
    perHour[h.h]! += 1;
  }
  const starts = perHour.flatMap((n, h) => Array.from({ length: n }, () => Math.floor((h + random()) * s.hourMs))).sort((a, b) => a - b);
  const sizes = Object.entries({ ...DEFAULT_SIZES, ...(Object.keys(s.sizes).length ? s.sizes : {}) }).filter(([, w]) => (w ?? 0) > 0) as [CompartmentSize, number][];
  const sizeTotal = sizes.reduce((a, [, w]) => a + w, 0);
  const pickSize = () => {
    let r = random() * sizeTotal;
    for (const [size, w] of sizes) if ((r -= w) < 0) return size;
    return sizes[sizes.length - 1]![0];
  };
  const noShows = new Set(shuffledIndices(s.parcels, random).slice(0, Math.round(s.noShow * s.parcels)));
  const longHolds = s.doorsLeftOpen ? s.doorsLeftOpen : null;
  return Array.from({ length: s.parcels }, (_, i) => {
    const after = s.pickupAfterHours.min + random() * (s.pickupAfterHours.max - s.pickupAfterHours.min);
    const holdLong = longHolds !== null && random() < longHolds.share;
    return {
      i,
      locker: i % s.lockers,
      size: pickSize(),
      qrDropoff: random() < s.qrShare,
      qrPickup: random() < s.qrShare,
      startMs: starts[i] ?? 0,
      pickupAfterMs: Math.round(after * s.hourMs),
      holdMs: holdLong ? longHolds.holdMs : s.crashes > 0 ? 50 + Math.floor(random() * 250) : 5,
      noShow: noShows.has(i),
      jam: !noShows.has(i) && random() < s.jams,
      reference: `SIM-${s.seed}-${i + 1}`,
    };
  });
}

/** Plans the faults from the seed (a different stream from the parcels', so adding a fault keeps the traffic). */
export function planFaults(s: RunSpec): FaultPlan {
  const random = seededRandom(s.seed ^ 0x5eed);
  const span = Math.max(profileMs(s), 3000);
  const outages = shuffledIndices(s.lockers, random)
    .slice(0, Math.round(s.outages * s.lockers))
    .map((locker) =>
      s.outageMs === null
        ? { locker, startMs: Math.floor(random() * 3000), durationMs: 1000 + Math.floor(random() * 3000) }
        : { locker, startMs: Math.floor(random() * span), durationMs: s.outageMs },
    );
  const at = () => Math.floor(random() * span);
  return {
    outages,
    storm: s.storm ? { startMs: Math.floor(s.storm.atHour * s.hourMs), downMs: s.storm.downMs } : null,
    forcedOpens: Array.from({ length: s.forcedOpens }, () => ({ locker: Math.floor(random() * s.lockers), atMs: at() })),
    powerCuts: s.powerCuts ? Array.from({ length: s.powerCuts.count }, () => ({ locker: Math.floor(random() * s.lockers), atMs: at(), downMs: s.powerCuts!.downMs })) : [],
  };
}

function shuffledIndices(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}
