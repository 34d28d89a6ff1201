import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import { makeConfig } from '../server/config.js';
import { createServer, type LockstepServer } from '../server/create-server.js';
import type { LockerView } from '../server/lockers/locker-views.js';
import type { ParcelView } from '../server/parcels/parcel-views.js';
import { ApiClient, ApiError } from './api-client.js';
import { checkInvariants, keepBooks, type Books, type DeviceRecord, type ParcelWithHistory } from './checker.js';
import { planOutages, runCrashes, runOutages } from './faults.js';
import { startProcessLocker, startSimLocker, type InProcessLocker, type SimLocker } from './fleet.js';
import { awaitCode, awaitPickupCode, visitLocker } from './people.js';
import { VirtualClock } from './virtual-clock.js';
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
  /** Share of recipients who never come: virtual time then passes the pickup window and couriers collect. */
  noShow?: number;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  booked: number;
  deposited: number;
  pickedUp: number;
  returned: number;
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
  // Server and in-process agents share a clock that the simulator can move forward (days in seconds); agents in
  // their own processes follow it through the server time in every sync message.
  const clock = new VirtualClock();
  if ((o.noShow ?? 0) > 0 && o.server) throw new Error('--no-show moves the server clock: run it with the in-process server');
  let server: LockstepServer | undefined;
  const lockers: SimLocker[] = [];
  try {
    let api: ApiClient;
    if (o.server) {
      if (!o.token) throw new Error('--server needs --token (or LOCKSTEP_TOKEN)');
      api = new ApiClient(o.server.replace(/\/$/, ''), o.token);
    } else {
      server = await createServer(makeConfig({ port: 0, mqttPort: 0, dataDir: path.join(workDir, 'server'), logLevel: 'silent' }), { clock });
      const { httpUrl } = await server.start();
      api = new ApiClient(httpUrl, server.adminToken);
    }

    for (let i = 0; i < o.lockers; i++) {
      const setup = {
        api,
        name: `Sim locker ${i + 1}`,
        location: { lat: 52.2 + random() / 10, lon: 21 + random() / 10 },
        dataDir: workDir,
        clock,
        random,
        seed: o.seed * 1000 + i,
      };
      lockers.push(inProcess ? await startSimLocker(setup) : await startProcessLocker(setup));
    }
    await waitFor(() => lockers.every((l) => l.ready()), 30_000, 'lockers never received their configuration');

    const progress: Progress = { booked: 0, deposited: 0, pickedUp: 0, returned: 0, failed: 0, total: o.parcels };
    const problems: string[] = [];
    const parcelIds: string[] = [];
    const report = () => o.onProgress?.({ ...progress });
    const outagePlan = planOutages(lockers, o.outages ?? 0, random);
    const noShows = new Set(shuffledIndices(o.parcels, random).slice(0, Math.round((o.noShow ?? 0) * o.parcels)));
    const flows = Array.from({ length: o.parcels }, (_, i) => ({
      noShow: noShows.has(i),
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
      flows.filter((f) => !f.noShow).map(async (f) => {
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
    await runNoShows(api, server, clock, flows.filter((f) => f.noShow), { progress, problems, report, parcelIds });
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
async function bookWhenFree(api: ApiClient, lockerId: string, size: CompartmentSize, reference: string, tries = 1200) {
  for (let i = 0; i < tries; i++) {
    try {
      return await api.post<ParcelView & { dropoff: { pin: string; qr: string } }>('/v1/parcels', {
        lockerId,
        size,
        recipient: { email: `${reference.toLowerCase()}@example.test` },
        reference,
      });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'NO_FREE_COMPARTMENT') throw err;
      if (i + 1 < tries) await sleep(100);
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

function shuffledIndices(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

interface NoShowFlow {
  locker: SimLocker;
  size: CompartmentSize;
  reference: string;
}

/**
 * Parcels whose recipients never come, after everyone else is done: couriers deposit as many as fit, virtual time
 * passes the pickup window, couriers collect them with their collection codes (they end `returned`); repeated
 * until all went round.
 */
async function runNoShows(
  api: ApiClient,
  server: LockstepServer | undefined,
  clock: VirtualClock,
  pending: NoShowFlow[],
  out: { progress: Progress; problems: string[]; report: () => void; parcelIds: string[] },
): Promise<void> {
  const windowMs = (server?.ctx.config.pickupWindowSec ?? 0) * 1000;
  while (pending.length) {
    const inLocker: { f: NoShowFlow; parcel: ParcelView }[] = [];
    for (const f of [...pending]) {
      const parcel = await bookWhenFree(api, f.locker.id, f.size, f.reference, 1);
      if (!parcel) continue;
      pending.splice(pending.indexOf(f), 1);
      out.parcelIds.push(parcel.id);
      out.progress.booked++;
      const drop = await visitLocker(f.locker, parcel.dropoff, parcel.compartmentId, { useQr: false });
      if (!drop.ok) {
        out.progress.failed++;
        out.problems.push(`${f.reference}: deposit failed: ${drop.problem}`);
        continue;
      }
      out.progress.deposited++;
      inLocker.push({ f, parcel });
      out.report();
    }
    if (inLocker.length === 0) {
      for (const f of pending) out.problems.push(`${f.reference}: could not book at ${f.locker.id}`);
      out.progress.failed += pending.length;
      return;
    }
    await waitFor(async () => {
      for (const { parcel } of inLocker) if ((await api.get<ParcelView>(`/v1/parcels/${parcel.id}`)).status !== 'in_locker') return false;
      return true;
    }, 60_000, 'no-show parcels never reached the server as deposited').catch((err: Error) => out.problems.push(err.message));
    clock.advance(windowMs + 60_000);
    await Promise.all(
      inLocker.map(async ({ f, parcel }) => {
        const code = await awaitCode(api, parcel.id, 'collection_code');
        if (!code) return void out.problems.push(`${f.reference}: no collection code was issued`);
        const visit = await visitLocker(f.locker, code, parcel.compartmentId, { useQr: false });
        if (!visit.ok) return void out.problems.push(`${f.reference}: collection failed: ${visit.problem}`);
        out.progress.returned++;
        out.report();
      }),
    );
  }
}
