import { registerLockers, serverWindow, type BenchContext, type Host } from './harness.js';
import { bookingBodies } from './bookings.js';
import { httpLoad } from './http-load.js';
import { measureSigning } from './signing.js';
import { pct, ratio, round, say, sum } from './stats.js';

const COMPARTMENTS_PER_LOCKER = 32;
/** Keep-alive connections per server process (the single-process bookings bench uses 32 against one). */
const CONCURRENCY_PER_PROCESS = 32;

export interface FleetBookings {
  processes: number;
  concurrency: number;
  /** Raw node:crypto Ed25519 signatures per second on one thread of this machine. */
  signaturesPerSecOneThread: number;
  /** Bookings per second if signing two grants were the only cost, on every core: raw rate × cores / 2. */
  signingBoundAllCores: number;
  bookingsPerSec: number;
  /** Per process, in order. */
  perProcess: number[];
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
  vsSigningBound: number;
}

/**
 * `bookings --fleet N`: bookings across the deployment. Lockers with 32 compartments each are registered (bulk
 * import) through the first process; then every process is sent POST /v1/parcels at once, each over its own
 * keep-alive connections (as a load balancer in front of the cluster would), each booking to a locker with a free
 * compartment. Compared with the signing bound of every core: two grants signed per booking.
 */
export async function fleetBookings(ctx: BenchContext, hosts: Host[], o: { cores: number }): Promise<FleetBookings> {
  const quick = ctx.quick;
  const first = hosts[0] as Host;
  const warmupMs = quick ? 1000 : 2000;
  const durationMs = quick ? 3000 : 8000;
  const signing = await measureSigning(quick ? 500 : 1500);
  const signingBoundAllCores = round((signing.nodeCrypto * o.cores) / 2);
  // Room for the bound's rate over the whole run, so no booking is refused for want of a compartment.
  const lockers = Math.ceil((signingBoundAllCores * ((warmupMs + durationMs) / 1000) * 1.2) / COMPARTMENTS_PER_LOCKER);
  const compartments = Array.from({ length: COMPARTMENTS_PER_LOCKER }, (_, k) => ({ id: `C${String(k + 1).padStart(2, '0')}`, size: 'S' }));
  const creds = await registerLockers(first, lockers, compartments);
  say(`  bookings: ${creds.length} lockers × ${COMPARTMENTS_PER_LOCKER} compartments registered; signing bound of ${o.cores} cores ${signingBoundAllCores}/s`);
  // Each process books into its own share of the lockers (any process can book any locker; this keeps the
  // compartments of one locker from being raced for by several processes, which a real load would not do either).
  // With --profile: the first process's CPU profile over the bookings window (what a booking costs the server).
  const profiled = ctx.profileDir !== undefined ? serverWindow(ctx, first, warmupMs, `${first.label}-bookings`) : undefined;
  const results = await Promise.all(
    hosts.map((host, h) => {
      const next = bookingBodies(
        creds.filter((_, i) => i % hosts.length === h).map((c) => c.lockerId),
        COMPARTMENTS_PER_LOCKER,
        `FLEET-${h}`,
      );
      return httpLoad({
        url: `${host.httpUrl}/v1/parcels`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${host.adminToken}` },
        body: next,
        expectStatus: 201,
        concurrency: CONCURRENCY_PER_PROCESS,
        warmupMs,
        durationMs,
        label: `bookings ${host.label}`,
      });
    }),
  );
  const window = await profiled?.close();
  if (window) say(`  bookings: first process's CPU over the window ${round(window.cpu * 100)} % of a core`);
  const bookingsPerSec = round(sum(results.map((r) => r.rps)));
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const result: FleetBookings = {
    processes: hosts.length,
    concurrency: CONCURRENCY_PER_PROCESS * hosts.length,
    signaturesPerSecOneThread: signing.nodeCrypto,
    signingBoundAllCores,
    bookingsPerSec,
    perProcess: results.map((r) => r.rps),
    p50Ms: Math.max(...results.map((r) => r.latencyMs.p50)),
    p99Ms: Math.max(...results.map((r) => r.latencyMs.p99)),
    errors,
    vsSigningBound: ratio(bookingsPerSec, signingBoundAllCores),
  };
  say(`  bookings: ${bookingsPerSec}/s across ${hosts.length} processes (${result.perProcess.join(' + ')}), p50 ≤ ${result.p50Ms} ms, p99 ≤ ${result.p99Ms} ms = ${pct(result.vsSigningBound)} of the signing bound${Object.keys(errors).length ? `; refused ${JSON.stringify(errors)}` : ''}`);
  return result;
}
