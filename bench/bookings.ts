import path from 'node:path';
import { cpuPerOp, registerLockers, serverWindow, startHost, stopHost, type BenchContext } from './harness.js';
import { httpLoad, type HttpLoadOptions, type HttpLoadResult } from './http-load.js';
import type { ProfileSummary } from './profile.js';
import { measureSigning, type SigningRates } from './signing.js';
import { pct, ratio, round, say } from './stats.js';

type Measured = HttpLoadResult & {
  /** Server CPU in the window, share of one core. */
  serverCpu: number;
  /** Of which system time. */
  serverCpuSystem: number;
  /** Server CPU microseconds per answer: independent of how fast the client (on the same 2 cores) could push. */
  cpuUsPerOp: number;
};

export interface BookingsResult {
  concurrency: number;
  signingPerSec: SigningRates;
  /** Bookings per second if signing two grants were the only cost: half the raw node:crypto rate. */
  signingBound: number;
  /** The same bound with the signer the server uses (jose CompactSign on a WebCrypto key). */
  serverSignerBound: number;
  bareFastify: Measured;
  bookings: Measured & { compartments: number };
  ratios: {
    vsBareFastify: number;
    vsSigningBound: number;
    vsServerSignerBound: number;
    /** Bare Fastify CPU per request / Lockstep CPU per booking. */
    cpuVsBareFastify: number;
    /** CPU of two raw signatures / Lockstep CPU per booking. */
    cpuVsSigning: number;
  };
  profile?: ProfileSummary;
}

const COMPARTMENTS_PER_LOCKER = 32;
const CONCURRENCY = 32;

async function measure(ctx: BenchContext, host: Awaited<ReturnType<typeof startHost>>, o: HttpLoadOptions): Promise<Measured & { profile?: ProfileSummary }> {
  const window = serverWindow(ctx, host, o.warmupMs);
  const load = await httpLoad(o);
  const w = await window.close();
  return { ...load, serverCpu: w.cpu, serverCpuSystem: w.cpuSystem, cpuUsPerOp: cpuPerOp(w.cpu, load.rps), ...(w.profile ? { profile: w.profile } : {}) };
}

/** Registers lockers with `capacity` free compartments in all, then books into them round robin. */
async function lockstepBookings(
  ctx: BenchContext,
  label: string,
  capacity: number,
  load: Pick<HttpLoadOptions, 'expectStatus' | 'concurrency' | 'warmupMs' | 'durationMs'>,
): Promise<Measured & { compartments: number; profile?: ProfileSummary }> {
  const host = await startHost(ctx, { kind: 'lockstep', dataDir: path.join(ctx.tmp, label), port: 0, mqttPort: 0, logLevel: 'info' }, label);
  const lockers = Math.ceil(capacity / COMPARTMENTS_PER_LOCKER);
  const compartments = Array.from({ length: COMPARTMENTS_PER_LOCKER }, (_, k) => ({ id: `C${String(k + 1).padStart(2, '0')}`, size: 'S' }));
  const creds = await registerLockers(host, lockers, compartments);
  say(`  registered ${creds.length} lockers × ${COMPARTMENTS_PER_LOCKER} compartments`);
  const next = bookingBodies(creds.map((c) => c.lockerId), COMPARTMENTS_PER_LOCKER, 'ORDER');
  try {
    const booked = await measure(ctx, host, {
      ...load,
      url: `${host.httpUrl}/v1/parcels`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${host.adminToken}` },
      body: next,
      label,
    });
    return { ...booked, compartments: creds.length * COMPARTMENTS_PER_LOCKER };
  } finally {
    await stopHost(host);
  }
}

const sample = (i: number, lockerId: string, prefix = 'ORDER') => JSON.stringify({ lockerId, size: 'S', recipient: { email: 'r@example.com' }, reference: `${prefix}-${i}` });

/** Booking bodies round robin over lockers that still have a free compartment; null when none is left (the run ends early). */
export function bookingBodies(lockerIds: readonly string[], perLocker: number, prefix: string): () => string | null {
  const free = lockerIds.map(() => perLocker);
  let cursor = 0;
  let issued = 0;
  return () => {
    for (let tries = 0; tries < lockerIds.length; tries++) {
      const k = cursor++ % lockerIds.length;
      if ((free[k] ?? 0) > 0) {
        free[k] = (free[k] ?? 0) - 1;
        return sample(issued++, lockerIds[k] ?? '', prefix);
      }
    }
    return null;
  };
}

/**
 * Bookings per second through the real API (POST /v1/parcels over keep-alive HTTP; each booking reserves a
 * compartment, signs two grants and commits them) against a bare Fastify route and half the raw signing rate.
 */
export async function benchBookings(ctx: BenchContext): Promise<BookingsResult> {
  const warmupMs = ctx.quick ? 1000 : 2000;
  const durationMs = ctx.quick ? 3000 : 8000;
  const load = { expectStatus: 201, concurrency: CONCURRENCY, warmupMs, durationMs };

  say('bookings: Ed25519 signing rate of this machine (one thread)');
  const signingPerSec = await measureSigning(ctx.quick ? 500 : 1500);
  const signingBound = round(signingPerSec.nodeCrypto / 2);
  const serverSignerBound = round(signingPerSec.serverSignGrant / 2);
  say(
    `  node:crypto ${signingPerSec.nodeCrypto}/s; jose SignJWT ${signingPerSec.joseCryptoKey}/s (CryptoKey), ${signingPerSec.joseKeyObject}/s (KeyObject); ` +
      `server signGrant ${signingPerSec.serverSignGrant}/s`,
  );

  const headers = { 'content-type': 'application/json' };

  say('bookings: bare Fastify route (same client, same body)');
  const bare = await startHost(ctx, { kind: 'fastify', port: 0 }, 'bookings-bare-fastify');
  let i = 0;
  const bareFastify = await measure(ctx, bare, {
    ...load,
    url: `${bare.httpUrl}/bare`,
    headers: { ...headers, authorization: `Bearer ${'x'.repeat(43)}` },
    body: () => sample(i++, 'lk_0123456789abcdef'),
    label: 'bare fastify',
  });
  await stopHost(bare);
  say(`  bare Fastify: ${bareFastify.rps} req/s, p50 ${bareFastify.latencyMs.p50} ms, server ${pct(bareFastify.serverCpu)} of a core, ${bareFastify.cpuUsPerOp} µs CPU/request`);

  // Enough free compartments that no booking is refused: the fastest this could go, for the whole run, and more.
  const capacity = Math.min(bareFastify.rps, signingBound) * ((warmupMs + durationMs) / 1000) * 1.2 + 1000;
  say('bookings: Lockstep POST /v1/parcels');
  const { profile, ...booked } = await lockstepBookings(ctx, 'bookings-lockstep', capacity, load);
  const twoSignaturesUs = 2e6 / signingPerSec.nodeCrypto;
  const ratios = {
    vsBareFastify: ratio(booked.rps, bareFastify.rps),
    vsSigningBound: ratio(booked.rps, signingBound),
    vsServerSignerBound: ratio(booked.rps, serverSignerBound),
    cpuVsBareFastify: ratio(bareFastify.cpuUsPerOp, booked.cpuUsPerOp),
    cpuVsSigning: ratio(twoSignaturesUs, booked.cpuUsPerOp),
  };
  say(
    `  bookings ${booked.rps}/s (p50 ${booked.latencyMs.p50} ms, p99 ${booked.latencyMs.p99} ms; server ${pct(booked.serverCpu)} of a core (system ${pct(booked.serverCpuSystem)}), ${booked.cpuUsPerOp} µs CPU/booking)\n` +
      `  = ${pct(ratios.vsBareFastify)} of bare Fastify, ${pct(ratios.vsSigningBound)} of the signing bound ${signingBound}/s ` +
      `(${pct(ratios.vsServerSignerBound)} of ${serverSignerBound}/s with the server's signer)`,
  );
  if (Object.keys(booked.errors).length) say(`  refused: ${JSON.stringify(booked.errors)}`);
  const { profile: _bareProfile, ...bareResult } = bareFastify;
  return {
    concurrency: CONCURRENCY,
    signingPerSec,
    signingBound,
    serverSignerBound,
    bareFastify: bareResult,
    bookings: booked,
    ratios,
    ...(profile ? { profile } : {}),
  };
}
