import { randomBytes } from 'node:crypto';
import { measureCommits, type CommitRates } from './disk.js';
import path from 'node:path';
import { newLockerKey, type FleetCredential } from './credentials.js';
import { registerLockers, serverWindow, startFleet, startHost, stopHost, type BenchContext, type Host } from './harness.js';
import type { FleetStats } from './mqtt-fleet.js';
import type { ProfileSummary } from './profile.js';
import { pct, ratio, round, say, sleep, until } from './stats.js';

interface Run {
  /** Events per second: committed by the server (Lockstep) or delivered to the subscriber (bare aedes). */
  eventsPerSec: number;
  /** Batches (MQTT messages) per second. */
  batchesPerSec: number;
  /** Events the publishers saw acknowledged per second (server ack after commit, or PUBACK). */
  ackedPerSec: number;
  serverCpu: number;
  /** Server CPU microseconds per event. */
  cpuUsPerEvent: number;
  clientRssMiB: number;
}

export interface EventsResult {
  lockers: number;
  batch: number;
  /** Durable SQLite commits per second of this disk (bench/disk.ts), measured in the same run. */
  commitsPerSec: CommitRates;
  /** Events per second if each batch were one commit of nothing else: the one-commit-per-message bound. */
  commitBound: number;
  bareAedes: Run;
  lockstep: Run & {
    duplicates: number;
    rejected: number;
    /** After the run: events acknowledged to the lockers, and device_events rows (every ack was committed). */
    ackedTotal: number;
    committedRows: number;
    lost: number;
  };
  ratios: { vsBareAedes: number; cpuVsBareAedes: number; vsCommitBound: number };
  profile?: ProfileSummary;
}

/** Lockers for a broker without authentication: same ids and keys (clients sign the same tokens), not registered. */
export function fakeCredentials(n: number): FleetCredential[] {
  return Array.from({ length: n }, () => ({ lockerId: `lk_${randomBytes(8).toString('hex')}`, key: newLockerKey().key }));
}

async function runFleet(ctx: BenchContext, host: Host, creds: FleetCredential[], o: { batch: number; warmupMs: number; durationMs: number; bare: boolean }) {
  const fleet = await startFleet(
    { host: '127.0.0.1', port: host.mqttPort, ack: o.bare ? 'puback' : 'server', heartbeatMs: 0, ackTimeoutMs: 15_000, seed: 7 },
    `${host.label} fleet`,
  );
  await fleet.request('add', { lockers: creds });
  if (o.bare) await fleet.request('subscribe', { filter: 'lockers/+/events' });
  const c = await fleet.request<{ connected: number; failed: number }>('connect', { concurrency: 100 });
  if (c.failed) throw new Error(`${c.failed} lockers did not connect to ${host.label}`);
  await fleet.request('pump', { batch: o.batch });
  const window = serverWindow(ctx, host, o.warmupMs);
  await window.opened;
  const f0 = await fleet.request<FleetStats>('stats');
  await sleep(o.durationMs);
  const f1 = await fleet.request<FleetStats>('stats');
  const w = await window.close();
  await fleet.request('pump', { batch: 0 });
  const secs = w.ms / 1000;
  const messages = (f1.subscriber.messages - f0.subscriber.messages) / secs;
  const committed = (w.after.eventsApplied - w.before.eventsApplied) / secs;
  const eventsPerSec = round(o.bare ? messages * o.batch : committed);
  const run: Run = {
    eventsPerSec,
    batchesPerSec: round(eventsPerSec / o.batch),
    ackedPerSec: round((f1.acked - f0.acked) / secs),
    serverCpu: w.cpu,
    cpuUsPerEvent: eventsPerSec > 0 ? round((w.cpu * 1e6) / eventsPerSec, 1) : 0,
    clientRssMiB: round(f1.rss / 1024 / 1024),
  };
  return { fleet, run, profile: w.profile };
}

type LockstepEvents = EventsResult['lockstep'];

async function lockstepEvents(
  ctx: BenchContext,
  label: string,
  lockers: number,
  timing: { warmupMs: number; durationMs: number; batch: number },
): Promise<LockstepEvents & { profile?: ProfileSummary }> {
  const host = await startHost(ctx, { kind: 'lockstep', dataDir: path.join(ctx.tmp, label), port: 0, mqttPort: 0, logLevel: 'info' }, label);
  const creds = await registerLockers(host, lockers, [{ id: 'A1', size: 'M' }]);
  const l = await runFleet(ctx, host, creds, { ...timing, bare: false });
  // Let in-flight batches finish, then check that everything acknowledged is in the database.
  await until(async () => (await l.fleet.request<FleetStats>('stats')).outbox === 0, 20_000, 200);
  const fleetEnd = await l.fleet.request<FleetStats>('stats');
  const committedRows = await host.child.request<number>('countEvents');
  const hostEnd = await host.stats();
  await l.fleet.stop();
  await stopHost(host);
  return {
    ...l.run,
    duplicates: hostEnd.eventsDuplicate,
    rejected: hostEnd.rejected,
    ackedTotal: fleetEnd.acked,
    committedRows,
    lost: Math.max(0, fleetEnd.acked - committedRows),
    ...(l.profile ? { profile: l.profile } : {}),
  };
}

/**
 * Device events committed per second: N lockers over real MQTT (loopback), each sending a batch with QoS 1
 * and waiting for the server's ack (sent after commit) before the next, against bare aedes carrying the same
 * batches with QoS 1 from the same publishers to one subscriber.
 */
export async function benchEvents(ctx: BenchContext): Promise<EventsResult> {
  const lockers = ctx.quick ? 32 : 64;
  const batch = 10;
  const timing = { warmupMs: ctx.quick ? 1000 : 2000, durationMs: ctx.quick ? 3000 : 8000, batch };

  say('events: durable SQLite commits per second on this disk (WAL, synchronous = FULL, as the server)');
  const commitsPerSec = measureCommits(ctx.tmp, ctx.quick ? 1000 : 3000);
  const commitBound = commitsPerSec.onePerCommit * batch;
  say(`  ${commitsPerSec.onePerCommit} commits/s of one row; ${commitsPerSec.rowsGrouped} rows/s 100 to a commit; one commit per batch of ${batch} bounds events at ${commitBound}/s`);

  say(`events: bare aedes, ${lockers} publishers × batches of ${batch} (QoS 1) → one subscriber`);
  const bare = await startHost(ctx, { kind: 'aedes', mqttPort: 0 }, 'events-bare-aedes');
  const b = await runFleet(ctx, bare, fakeCredentials(lockers), { ...timing, bare: true });
  await b.fleet.stop();
  await stopHost(bare);
  say(`  bare aedes: ${b.run.eventsPerSec} events/s (${b.run.batchesPerSec} messages/s), server ${pct(b.run.serverCpu)} of a core`);

  say(`events: Lockstep, ${lockers} lockers × batches of ${batch}, each acked after commit`);
  const { profile, ...l } = await lockstepEvents(ctx, 'events-lockstep', lockers, timing);
  const ratios = {
    vsBareAedes: ratio(l.eventsPerSec, b.run.eventsPerSec),
    cpuVsBareAedes: ratio(b.run.cpuUsPerEvent, l.cpuUsPerEvent),
    vsCommitBound: ratio(l.eventsPerSec, commitBound),
  };
  say(
    `  Lockstep: ${l.eventsPerSec} events/s committed (${l.batchesPerSec} batches/s), server ${pct(l.serverCpu)} of a core, ` +
      `${l.cpuUsPerEvent} µs CPU/event (bare ${b.run.cpuUsPerEvent}) = ${pct(ratios.vsBareAedes)} of bare aedes QoS 1, ${pct(ratios.vsCommitBound)} of the one-commit-per-batch bound`,
  );
  say(`  acknowledged ${l.ackedTotal}, rows ${l.committedRows}: ${l.lost ? 'LOST SOME' : 'nothing acknowledged was lost'}`);
  return { lockers, batch, commitsPerSec, commitBound, bareAedes: b.run, lockstep: l, ratios, ...(profile ? { profile } : {}) };
}
