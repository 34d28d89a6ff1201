/**
 * Child-process entry: the server side of a benchmark, alone in its process (its own event loop, its own RSS,
 * its own CPU profile). One of: the real Lockstep server, a bare aedes broker, a bare Fastify route.
 */
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { createServer, enrolDevice, importLockers, makeConfig, type ImportedTicket, type LockstepServer } from '../server/index.js';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import { newLockerKey, type FleetCredential } from './credentials.js';
import { childConfig, gc, note, serve, type Handler } from './ipc.js';
import { profilingHandlers } from './profiler.js';

export type HostConfig = (
  | { kind: 'lockstep'; dataDir: string; port: number; mqttPort: number; logLevel: string; databaseUrl?: string; redisUrl?: string; heartbeatMs?: number }
  | { kind: 'aedes'; mqttPort: number }
  | { kind: 'fastify'; port: number }
);

export interface HostStats {
  rss: number;
  heapUsed: number;
  /** CPU time of this process so far, microseconds (user + system). */
  cpuUs: number;
  /** Of which in the kernel (system time: sockets, fsync), microseconds. */
  cpuSystemUs: number;
  connected: number;
  eventsApplied: number;
  eventsDuplicate: number;
  rejected: number;
  /** Lockstep: the device messages refused so far, by code. */
  rejectedByCode?: Record<string, number>;
  authFailures: number;
  /** Event-loop delay since the last reset, milliseconds. */
  loopDelay: { p50: number; p99: number; max: number };
}

const HOST = '127.0.0.1';
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

function baseStats(connected: number, reset: boolean): HostStats {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const loopDelay = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) };
  if (reset) loop.reset();
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    cpuUs: cpu.user + cpu.system,
    cpuSystemUs: cpu.system,
    connected,
    eventsApplied: 0,
    eventsDuplicate: 0,
    rejected: 0,
    authFailures: 0,
    loopDelay,
  };
}

const profiling = profilingHandlers();

async function measureMemory(): Promise<{ rss: number; heapUsed: number }> {
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/**
 * Registers `count` lockers with the bulk import (server/lockers/import-lockers.ts: what `npm run lockers:import`
 * writes) and enrols each through the server's own function (the controller makes its key pair and spends its
 * single-use token, as POST /v1/enrol does), with commits made non-durable for the setup only on SQLite: the
 * benchmarks run at FULL again. This is the one place that knows how a locker gets its broker credentials.
 */
async function registerFleet(server: LockstepServer, count: number, compartments: { id: string; size: CompartmentSize }[]): Promise<FleetCredential[]> {
  const db = server.ctx.db;
  const out: FleetCredential[] = [];
  const sqlite = !server.ctx.config.databaseUrl;
  if (sqlite) await sql`PRAGMA synchronous = OFF`.execute(db);
  try {
    const bodies = Array.from({ length: count }, (_, i) => ({ name: `Bench ${i + 1}`, location: { lat: 52.2, lon: 21 }, compartments }));
    const tickets = await importLockers(db, bodies, 'admin:bench', server.ctx.clock.now());
    const one = async (ticket: ImportedTicket) => {
      const { key, x } = newLockerKey();
      await enrolDevice(server.ctx, ticket.lockerId, ticket.token, { kty: 'OKP', crv: 'Ed25519', x });
      out.push({ lockerId: ticket.lockerId, key });
      if (out.length % 2000 === 0) note({ note: 'progress', what: 'enrolled', done: out.length, total: count });
    };
    // SQLite has one connection: one at a time. Postgres: as many at once as the pool has connections.
    const inParallel = sqlite ? 1 : server.ctx.config.databasePoolSize;
    for (let i = 0; i < tickets.length; i += inParallel) await Promise.all(tickets.slice(i, i + inParallel).map(one));
  } finally {
    if (sqlite) {
      await sql`PRAGMA synchronous = FULL`.execute(db);
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
    }
  }
  return out;
}

async function lockstepHost(config: Extract<HostConfig, { kind: 'lockstep' }>): Promise<void> {
  const server = await createServer(
    makeConfig({
      port: config.port, mqttPort: config.mqttPort, host: HOST, dataDir: config.dataDir, logLevel: config.logLevel as 'info',
      // A process of a multi-process deployment (bench/fleet.ts): one Postgres, one Redis-joined broker fleet.
      databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, ...(config.heartbeatMs ? { heartbeatMs: config.heartbeatMs } : {}),
      // Every client process has its own loopback address (127.0.0.2, .3, …): the per-address connect limit is for the Internet.
      mqttConnectsPerAddressPer10s: 0,
    }),
  );
  const { httpUrl, mqttUrl } = await server.start();
  const handlers: Record<string, Handler> = {
    ...profiling,
    register: async (m) => registerFleet(server, Number(m.count), m.compartments as { id: string; size: CompartmentSize }[]),
    stats: async (m) => {
      const s = server.stats;
      return {
        ...baseStats(server.connectedLockers(), m.reset === true),
        eventsApplied: s.eventsApplied,
        eventsDuplicate: s.eventsDuplicate,
        rejected: s.rejectedTotal(),
        rejectedByCode: Object.fromEntries(s.mqttRejected),
        authFailures: s.authFailures,
      } satisfies HostStats;
    },
    memory: measureMemory,
    /** Committed device events in the database (the truth, whatever the counters say). */
    countEvents: async () => {
      const row = await server.ctx.db.selectFrom('device_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** Lockers whose last message (heartbeat, status, events) arrived at or after `since` (ms since the epoch). */
    seenSince: async (m) => {
      const row = await server.ctx.db
        .selectFrom('lockers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('last_seen_at', '>=', Number(m.since))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    stop: async () => {
      await server.stop();
    },
  };
  serve(handlers, { httpUrl, mqttUrl, adminToken: server.adminToken });
}

async function aedesHost(config: Extract<HostConfig, { kind: 'aedes' }>): Promise<void> {
  const aedes = await Aedes.createBroker();
  const tcp = createTcpServer(aedes.handle);
  await new Promise<void>((resolve) => tcp.listen(config.mqttPort, HOST, resolve));
  const { port } = tcp.address() as AddressInfo;
  serve(
    {
      ...profiling,
      stats: async (m) => baseStats(aedes.connectedClients, m.reset === true),
      memory: measureMemory,
      stop: async () => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        tcp.close();
      },
    },
    { mqttUrl: `mqtt://${HOST}:${port}` },
  );
}

async function fastifyHost(config: Extract<HostConfig, { kind: 'fastify' }>): Promise<void> {
  const app = Fastify({ logger: false });
  // A route that does nothing: the framework's own cost (parse the JSON body, route, serialise, keep-alive).
  app.post('/bare', async (_request, reply) => reply.code(201).send({ ok: true }));
  await app.listen({ port: config.port, host: HOST });
  const { port } = app.server.address() as AddressInfo;
  serve(
    {
      ...profiling,
      stats: async (m) => baseStats(0, m.reset === true),
      memory: measureMemory,
      stop: async () => {
        await app.close();
      },
    },
    { httpUrl: `http://${HOST}:${port}` },
  );
}

const config = childConfig<HostConfig>();
const start = config.kind === 'lockstep' ? lockstepHost(config) : config.kind === 'aedes' ? aedesHost(config) : fastifyHost(config);
start.catch((err: unknown) => {
  console.error('bench host failed', err);
  process.exit(1);
});
