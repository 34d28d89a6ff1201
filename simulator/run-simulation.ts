import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../shared/clock.js';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import { makeConfig } from '../server/config.js';
import { createServer, type LockstepServer } from '../server/create-server.js';
import type { LockerView } from '../server/lockers/locker-views.js';
import type { ParcelView } from '../server/parcels/parcel-views.js';
import { ApiClient, ApiError } from './api-client.js';
import { checkInvariants, keepBooks, type Books, type DeviceRecord, type ParcelWithHistory } from './checker.js';
import { planOutages, runCrashes, runOutages } from './faults.js';
import { startProcessLocker, startSimLocker, type InProcessLocker, type SimLocker } from './fleet.js';
import { awaitPickupCode, visitLocker } from './people.js';
import { pick, seededRandom } from './random.js';

export interface SimulationOptions {
  lockers: number;
  parcels: number;
  seed: number;
  /** A running server's base URL; when absent the simulator starts one in process. */
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
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  booked: number;
  deposited: number;
  pickedUp: number;
  failed: number;
  total: number;
}

export interface SimulationReport {
  seed: number;
  lockers: number;
  parcels: Books & { deposited: number; failed: number };
  codes: { accepted: number; rejected: number } | null;
  events: { recorded: number; committed: number; resent: number; duplicatesIgnored: number | null };
  faults: { outages: number; networkCuts: number; crashes: number };
  /** From the last person leaving to every event committed. */
  convergeMs: number;
  durationMs: number;
  problems: string[];
  violations: string[];
}

const SIZES: readonly CompartmentSize[] = ['S', 'S', 'S', 'M', 'M', 'L'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs lockers, couriers and recipients against a server: every parcel is booked, deposited by a courier, and
 * picked up by its recipient with the code the server released, while networks are cut and agents killed as
 * asked. Then waits for the fleet to converge and checks the invariants.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationReport> {
  const started = Date.now();
  const random = seededRandom(o.seed);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-sim-'));
  const inProcess = !(o.processes || (o.crashes ?? 0) > 0);
  let server: LockstepServer | undefined;
  const lockers: SimLocker[] = [];
  try {
    let api: ApiClient;
    if (o.server) {
      if (!o.token) throw new Error('--server needs --token (or LOCKSTEP_TOKEN)');
      api = new ApiClient(o.server.replace(/\/$/, ''), o.token);
    } else {
      server = await createServer(makeConfig({ port: 0, mqttPort: 0, dataDir: path.join(workDir, 'server'), logLevel: 'silent' }));
      const { httpUrl } = await server.start();
      api = new ApiClient(httpUrl, server.adminToken);
    }

    for (let i = 0; i < o.lockers; i++) {
      const setup = {
        api,
        name: `Sim locker ${i + 1}`,
        location: { lat: 52.2 + random() / 10, lon: 21 + random() / 10 },
        dataDir: workDir,
        clock: systemClock,
        random,
        seed: o.seed * 1000 + i,
      };
      lockers.push(inProcess ? await startSimLocker(setup) : await startProcessLocker(setup));
    }
    await waitFor(() => lockers.every((l) => l.ready()), 30_000, 'lockers never received their configuration');

    const progress: Progress = { booked: 0, deposited: 0, pickedUp: 0, failed: 0, total: o.parcels };
    const problems: string[] = [];
    const parcelIds: string[] = [];
    const report = () => o.onProgress?.({ ...progress });
    const outagePlan = planOutages(lockers, o.outages ?? 0, random);
    const flows = Array.from({ length: o.parcels }, (_, i) => ({
      locker: lockers[i % lockers.length] as SimLocker,
      size: pick(random, SIZES),
      qrDropoff: random() < (o.qrShare ?? 0.2),
      qrPickup: random() < (o.qrShare ?? 0.2),
      holdMs: (o.crashes ?? 0) > 0 ? 50 + Math.floor(random() * 250) : 5,
      reference: `SIM-${o.seed}-${i + 1}`,
    }));

    let peopleDone = false;
    const outages = runOutages(lockers, outagePlan);
    const crashes = runCrashes(lockers, o.crashes ?? 0, random, () => !peopleDone);
    await Promise.all(
      flows.map(async (f) => {
        const fail = (problem: string) => {
          progress.failed++;
          problems.push(`${f.reference}: ${problem}`);
          report();
        };
        const parcel = await bookWhenFree(api, f.locker.id, f.size, f.reference);
        if (!parcel) return fail(`could not book at ${f.locker.id}`);
        parcelIds.push(parcel.id);
        progress.booked++;
        report();
        const drop = await visitLocker(f.locker, parcel.dropoff, parcel.compartmentId, { useQr: f.qrDropoff, holdMs: f.holdMs });
        if (!drop.ok) return fail(`deposit failed: ${drop.problem}`);
        progress.deposited++;
        report();
        const code = await awaitPickupCode(api, parcel.id);
        if (!code) return fail('no pickup code was released');
        const pickup = await visitLocker(f.locker, code, parcel.compartmentId, { useQr: f.qrPickup, holdMs: f.holdMs });
        if (!pickup.ok) return fail(`pickup failed: ${pickup.problem}`);
        progress.pickedUp++;
        report();
      }),
    );
    peopleDone = true;
    const crashCount = await crashes;
    await outages;

    // Converge: every agent up with an empty outbox, and the server holding every event each one recorded.
    const convergeFrom = Date.now();
    const converged = async () => {
      const views = await lockerViews(api, lockers);
      for (const l of lockers) {
        const [outbox, lastSeq] = [await l.outboxSize(), await l.lastSeq()];
        const v = views.find((x) => x.id === l.id);
        if (outbox !== 0 || !v || v.events.received !== lastSeq) return false;
      }
      return true;
    };
    await waitFor(converged, 60_000, 'the fleet did not converge within 60 s').catch((err: Error) => problems.push(err.message));
    const convergeMs = Date.now() - convergeFrom;

    const views = await lockerViews(api, lockers);
    const parcels = await Promise.all(parcelIds.map((id) => api.get<ParcelWithHistory>(`/v1/parcels/${id}`)));
    const devices = new Map<string, DeviceRecord>();
    for (const l of lockers) {
      const tap = (l as Partial<InProcessLocker>).tap;
      devices.set(l.id, { lastSeq: await l.lastSeq(), ...(tap ? { acceptedByJti: tap.acceptedByJti } : {}) });
    }
    const violations = checkInvariants({ parcels, lockers: views, devices });
    const taps = lockers.flatMap((l) => ((l as Partial<InProcessLocker>).tap ? [(l as InProcessLocker).tap] : []));
    const lastSeqs = await Promise.all(lockers.map((l) => l.lastSeq()));

    return {
      seed: o.seed,
      lockers: lockers.length,
      parcels: { ...keepBooks(parcels), deposited: progress.deposited, failed: progress.failed },
      codes: inProcess
        ? { accepted: taps.reduce((n, t) => n + (t.byType.get('code.accepted') ?? 0), 0), rejected: taps.reduce((n, t) => n + (t.byType.get('code.rejected') ?? 0), 0) }
        : null,
      events: {
        recorded: lastSeqs.reduce((a, b) => a + b, 0),
        committed: views.reduce((n, l) => n + l.events.received, 0),
        resent: lockers.reduce((n, l) => n + l.resent(), 0),
        duplicatesIgnored: server ? server.stats.eventsDuplicate : null,
      },
      faults: { outages: outagePlan.length, networkCuts: lockers.reduce((n, l) => n + l.proxy.cuts, 0), crashes: crashCount },
      convergeMs,
      durationMs: Date.now() - started,
      problems,
      violations,
    };
  } finally {
    await Promise.all(lockers.map((l) => l.stop().catch(() => undefined)));
    await server?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function lockerViews(api: ApiClient, lockers: readonly SimLocker[]): Promise<LockerView[]> {
  const all = (await api.get<{ lockers: LockerView[] }>('/v1/lockers')).lockers;
  return all.filter((l) => lockers.some((s) => s.id === l.id));
}

/** A carrier books, waiting and retrying while the locker is full (pickups free compartments). */
async function bookWhenFree(api: ApiClient, lockerId: string, size: CompartmentSize, reference: string) {
  for (let i = 0; i < 1200; i++) {
    try {
      return await api.post<ParcelView & { dropoff: { pin: string; qr: string } }>('/v1/parcels', {
        lockerId,
        size,
        recipient: { email: `${reference.toLowerCase()}@example.test` },
        reference,
      });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'NO_FREE_COMPARTMENT') throw err;
      await sleep(100);
    }
  }
  return null;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(what);
    await sleep(50);
  }
}
