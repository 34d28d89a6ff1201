import { compartmentsFrom, type RunSpec } from './plan.js';
import type { Progress } from './run-simulation.js';
import type { Scenario } from './scenario.js';

/** What a run is asked: a scenario, flags, or both (flags win over the scenario's values). */
export interface SimulationOptions {
  scenario?: Scenario;
  lockers?: number;
  parcels?: number;
  seed?: number;
  /** Running servers' base URLs, comma-separated; when absent the simulator starts one in process. */
  server?: string;
  /** Admin token for `server`. */
  token?: string;
  /** Share of people who scan the QR instead of typing the PIN. */
  qrShare?: number;
  /** Share of lockers whose network is cut for part of the run. */
  outages?: number;
  /** Agents killed with SIGKILL mid-flow and restarted (runs every agent in its own process). */
  crashes?: number;
  /** Run every agent in its own process even without crashes. */
  processes?: boolean;
  /** Share of recipients who never come: virtual time then passes the pickup window and couriers collect. */
  noShow?: number;
  /** Child processes hosting the lockers (0: all in this process). Default: one per 1,000 lockers above 500. */
  workers?: number;
  onProgress?: (p: Progress) => void;
}

/** Above this many lockers the fleet is spread over child processes unless told otherwise. */
const IN_PROCESS_MAX = 500;
const LOCKERS_PER_WORKER = 1000;

/** Combines a scenario with the flags; with neither, the classic run: 3 lockers, 30 parcels, all at once. */
export function resolveSpec(o: SimulationOptions): RunSpec {
  const s = o.scenario;
  const lockers = o.lockers ?? s?.fleet.lockers ?? 3;
  const parcels = o.parcels ?? (s ? Math.round(s.traffic.parcelsPerLocker * lockers) : 30);
  const crashes = o.crashes ?? 0;
  const processes = (o.processes ?? false) || crashes > 0;
  const autoWorkers = lockers > IN_PROCESS_MAX ? Math.ceil(lockers / LOCKERS_PER_WORKER) : 0;
  const workers = processes ? 0 : (o.workers ?? s?.fleet.workers ?? autoWorkers);
  if (processes && (o.workers ?? 0) > 0) throw new Error('--processes and --crashes run agents as children of this process: they cannot be combined with --workers');
  const f = s?.faults;
  return {
    name: s?.name ?? 'flags',
    lockers,
    parcels,
    seed: o.seed ?? s?.seed ?? 1,
    compartments: compartmentsFrom(s?.fleet.compartments),
    hourMs: s?.traffic.hourMs ?? 0,
    hourly: s?.traffic.hourly ?? [1],
    sizes: s?.traffic.sizes ?? {},
    qrShare: o.qrShare ?? s?.traffic.qrShare ?? 0.2,
    noShow: o.noShow ?? s?.traffic.noShow ?? 0,
    pickupAfterHours: s?.traffic.pickupAfterHours ?? { min: 0, max: 0 },
    outages: o.outages ?? f?.outages?.share ?? 0,
    outageMs: o.outages === undefined && f?.outages ? f.outages.durationMs : null,
    storm: f?.storm ?? null,
    jams: f?.jams?.share ?? 0,
    forcedOpens: f?.forcedOpens?.count ?? 0,
    doorsLeftOpen: f?.doorsLeftOpen ?? null,
    powerCuts: f?.powerCuts && !processes ? f.powerCuts : null,
    crashes,
    processes,
    workers: Math.min(workers, lockers),
    firmwareRollout: s?.firmwareRollout ?? null,
  };
}
