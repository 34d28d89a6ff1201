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
import { checkInvariants, keepBooks, type Books } from './checker.js';
import { startSimLocker, stopSimLocker, type SimLocker } from './fleet.js';
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
  codes: { accepted: number; rejected: number };
  events: { recorded: number; committed: number; sent: number; resent: number; duplicatesIgnored: number | null };
  durationMs: number;
  problems: string[];
  violations: string[];
}

const SIZES: readonly CompartmentSize[] = ['S', 'S', 'S', 'M', 'M', 'L'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs lockers, couriers and recipients against a server: every parcel is booked, deposited by a courier at the
 * keypad, and picked up by its recipient with the code the server released. Then checks the invariants.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationReport> {
  const started = Date.now();
  const random = seededRandom(o.seed);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-sim-'));
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
      lockers.push(
        await startSimLocker({
          api,
          name: `Sim locker ${i + 1}`,
          location: { lat: 52.2 + random() / 10, lon: 21 + random() / 10 },
          dataDir: workDir,
          clock: systemClock,
          random,
        }),
      );
    }
    await waitFor(() => lockers.every((l) => l.agent.ready), 15_000, 'lockers never received their configuration');

    const progress: Progress = { booked: 0, deposited: 0, pickedUp: 0, failed: 0, total: o.parcels };
    const problems: string[] = [];
    const parcelIds: string[] = [];
    const report = () => o.onProgress?.({ ...progress });

    const flows = Array.from({ length: o.parcels }, (_, i) => ({
      locker: lockers[i % lockers.length] as SimLocker,
      size: pick(random, SIZES),
      useQrDropoff: random() < (o.qrShare ?? 0.2),
      useQrPickup: random() < (o.qrShare ?? 0.2),
      reference: `SIM-${o.seed}-${i + 1}`,
    }));

    await Promise.all(
      flows.map(async (f) => {
        const parcel = await bookWhenFree(api, f.locker.id, f.size, f.reference);
        if (!parcel) {
          progress.failed++;
          problems.push(`${f.reference}: could not book at ${f.locker.id}`);
          return report();
        }
        parcelIds.push(parcel.id);
        progress.booked++;
        report();
        const drop = await visitLocker(f.locker, parcel.dropoff, parcel.compartmentId, { useQr: f.useQrDropoff });
        if (!drop.ok) {
          progress.failed++;
          problems.push(`${f.reference}: deposit failed: ${drop.problem}`);
          return report();
        }
        progress.deposited++;
        report();
        const code = await awaitPickupCode(api, parcel.id);
        if (!code) {
          progress.failed++;
          problems.push(`${f.reference}: no pickup code was released`);
          return report();
        }
        const pickup = await visitLocker(f.locker, code, parcel.compartmentId, { useQr: f.useQrPickup });
        if (!pickup.ok) {
          progress.failed++;
          problems.push(`${f.reference}: pickup failed: ${pickup.problem}`);
          return report();
        }
        progress.pickedUp++;
        report();
      }),
    );

    // Converge: every outbox empty and every event committed.
    await waitFor(async () => (await Promise.all(lockers.map((l) => l.store.outboxSize()))).every((n) => n === 0), 30_000, 'outboxes did not drain').catch(
      (err: Error) => problems.push(err.message),
    );

    const lockerViews = (await api.get<{ lockers: LockerView[] }>('/v1/lockers')).lockers.filter((l) => lockers.some((s) => s.id === l.id));
    const parcels = await Promise.all(parcelIds.map((id) => api.get<ParcelView>(`/v1/parcels/${id}`)));
    const taps = new Map(lockers.map((l) => [l.id, l.tap]));
    const violations = checkInvariants({ parcels, lockers: lockerViews, taps });
    const sum = (f: (l: SimLocker) => number) => lockers.reduce((n, l) => n + f(l), 0);

    return {
      seed: o.seed,
      lockers: lockers.length,
      parcels: { ...keepBooks(parcels), deposited: progress.deposited, failed: progress.failed },
      codes: {
        accepted: sum((l) => l.tap.byType.get('code.accepted') ?? 0),
        rejected: sum((l) => l.tap.byType.get('code.rejected') ?? 0),
      },
      events: {
        recorded: sum((l) => l.tap.seqs.size),
        committed: lockerViews.reduce((n, l) => n + l.events.received, 0),
        sent: sum((l) => l.agent.sync.stats.eventsSent),
        resent: sum((l) => l.agent.sync.stats.eventsResent),
        duplicatesIgnored: server ? server.stats.eventsDuplicate : null,
      },
      durationMs: Date.now() - started,
      problems,
      violations,
    };
  } finally {
    await Promise.all(lockers.map((l) => stopSimLocker(l).catch(() => undefined)));
    await server?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A carrier books, waiting and retrying while the locker is full (pickups free compartments). */
async function bookWhenFree(api: ApiClient, lockerId: string, size: CompartmentSize, reference: string) {
  for (let i = 0; i < 600; i++) {
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
    await sleep(20);
  }
}
