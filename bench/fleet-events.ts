import { serverWindow, type BenchContext, type Host } from './harness.js';
import type { BenchChild } from './ipc.js';
import type { FleetStats } from './mqtt-fleet.js';
import { round, say, sleep, sum } from './stats.js';

/** Publishers per server process and events per batch: the single-process events benchmark's shape (bench/events.ts). */
const PUBLISHERS_PER_PROCESS = 64;
const BATCH = 10;

export interface FleetEvents {
  publishers: number;
  batch: number;
  /** Lockstep: rows added to device_events per second (the shared database's count). Bare aedes: events its subscribers received. */
  eventsPerSec: number;
  /** Lockstep: acknowledged but not in the database after the window drained (must be 0). */
  lost: number;
}

/**
 * Events across the deployment (`events --fleet N`), while the fleet is held: 64 lockers per server process send
 * batches of 10 with QoS 1, each waiting for its ack before the next (Lockstep: the ack after commit; bare aedes:
 * the PUBACK, with one subscriber per process receiving every batch). Counted over `windowMs` after a warm-up.
 */
export async function eventsWindow(ctx: BenchContext, label: string, hosts: Host[], fleets: BenchChild[], o: { lockstep: boolean; warmupMs: number; windowMs: number }): Promise<FleetEvents> {
  const countRows = () => (hosts[0] as Host).child.request<number>('countEvents');
  const received = async () => sum((await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')))).map((s) => s.subscriber.messages * BATCH));
  if (!o.lockstep) await Promise.all(fleets.map((f) => f.request('subscribe', { filter: 'lockers/+/events' })));
  // Publishers spread evenly: each server process is reached by its own client processes.
  const perFleet = Math.ceil((PUBLISHERS_PER_PROCESS * hosts.length) / fleets.length);
  await Promise.all(fleets.map((f) => f.request('pump', { batch: BATCH, lockers: perFleet })));
  await sleep(o.warmupMs);
  const count = o.lockstep ? countRows : received;
  // With --profile: the first Lockstep process's CPU profile over the window (what an event costs the server).
  const profiled = ctx.profileDir !== undefined && o.lockstep ? serverWindow(ctx, hosts[0] as Host, 0, `${(hosts[0] as Host).label}-events`) : undefined;
  await profiled?.opened;
  const before = await count();
  const t0 = Date.now();
  await sleep(o.windowMs);
  const after = await count();
  const secs = (Date.now() - t0) / 1000;
  const window = await profiled?.close();
  if (window) say(`  ${label}: first process's CPU over the events window ${round(window.cpu * 100)} % of a core`);
  await Promise.all(fleets.map((f) => f.request('pump', { batch: 0 })));
  // Let the batches in flight finish (so that what follows starts from empty outboxes); then, on Lockstep,
  // everything acknowledged must be a row.
  for (const until = Date.now() + 30_000; Date.now() < until; await sleep(250)) {
    const stats = await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')));
    if (sum(stats.map((s) => s.outbox)) === 0) break;
  }
  let lost = 0;
  if (o.lockstep) {
    const acked = sum((await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')))).map((s) => s.acked));
    lost = Math.max(0, acked - (await countRows()));
  }
  const result: FleetEvents = { publishers: perFleet * fleets.length, batch: BATCH, eventsPerSec: round((after - before) / secs), lost };
  say(`  ${label}: ${result.eventsPerSec} events/s across ${hosts.length} processes from ${result.publishers} publishers${o.lockstep ? `, lost ${lost}` : ''}`);
  return result;
}
