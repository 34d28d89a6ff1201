import type { ServerContext } from './context.js';
import { expireCommands } from './commands/commands.js';
import { runPickupWindows } from './parcels/expiry.js';
import { checkOfflineLockers } from './alarms/offline-alarms.js';
import { pruneBrokerTokenUses } from './broker/device-auth.js';
import { maintainKeys } from './keys/key-rotation.js';
import { holdLease, releaseLease } from './store/leases.js';
import { purgeIdempotencyKeys } from './http/idempotency-store.js';
// Firmware rollouts and remote diagnostics (issue 19):
import { runRollouts } from './firmware/rollout-engine.js';
import { runDiagnosticsRequests } from './diagnostics/diagnostics.js';
import { sampleOccupancy } from './history/occupancy-sampler.js';

/** The periodic jobs, each on its own: one that fails is logged and never holds the others back. */
const JOBS: readonly { name: string; run: (ctx: ServerContext) => Promise<unknown> }[] = [
  { name: 'commands expiry', run: (ctx) => expireCommands(ctx) },
  { name: 'parcel windows', run: (ctx) => runPickupWindows(ctx) },
  { name: 'offline lockers', run: (ctx) => checkOfflineLockers(ctx) },
  { name: 'signing keys', run: (ctx) => maintainKeys(ctx) },
  { name: 'broker token uses', run: (ctx) => pruneBrokerTokenUses(ctx.db, ctx.clock.now()) },
  // Idempotency keys past their 24 h (issue 16).
  { name: 'idempotency keys', run: (ctx) => purgeIdempotencyKeys(ctx.db, ctx.clock.now()) },
  // Firmware rollouts and remote diagnostics (issue 19):
  { name: 'firmware rollouts', run: (ctx) => runRollouts(ctx) },
  { name: 'diagnostics requests', run: (ctx) => runDiagnosticsRequests(ctx) },
  // Occupancy per size, sampled once an hour for the history charts (cockpit):
  { name: 'occupancy samples', run: (ctx) => sampleOccupancy(ctx.db, ctx.clock.now()) },
];

/** The lease that makes the jobs run in one process at a time, however many share the database. */
export const SCHEDULER_LEASE = 'scheduler';
/** A holder that stops renewing (killed) is replaced after this long. */
const SCHEDULER_LEASE_MS = 10_000;

export interface SchedulerHandle {
  /** One tick now (lease, then the jobs or the key reload), after any tick in progress; resolves when it ended. */
  runOnce(): Promise<void>;
  /** Stops the loop and gives the lease up (another process takes over at its next tick). */
  stop(): Promise<void>;
}

/**
 * Periodic work on the injected clock (commands past their expiry, reservations and pickup windows that ended,
 * key activation and retirement, forgetting old broker token ids). On Postgres (several processes) every tick the
 * process renews or tries to take the scheduler lease; only the holder runs the jobs, the others only reload the
 * signing keys (the holder may have rotated them). Ticks never overlap: `runOnce` queues behind the timer's.
 */
export function startScheduler(ctx: ServerContext, everyMs = 1000): SchedulerHandle {
  let stopped = false;
  let cancel = () => {};
  let current: Promise<void> = Promise.resolve();
  const runJobs = () =>
    Promise.all(JOBS.map((job) => job.run(ctx).catch((err: unknown) => ctx.log.error({ err, job: job.name }, 'scheduled job failed'))));
  // SQLite serves one process: it always holds the lease (a restart after a crash does not wait for it to expire).
  const shared = ctx.config.databaseUrl !== undefined;
  const tick = async (): Promise<void> => {
    const holder = shared ? await holdLease(ctx.db, SCHEDULER_LEASE, ctx.instanceId, ctx.clock.now(), SCHEDULER_LEASE_MS) : true;
    if (holder) await runJobs();
    else await ctx.keys.exclusive(() => ctx.keys.reload(ctx.db));
  };
  const enqueue = (): Promise<void> => {
    current = current.then(tick).catch((err: unknown) => ctx.log.error({ err }, 'scheduler tick failed'));
    return current;
  };
  const timed = () => {
    void enqueue().finally(() => {
      if (!stopped) cancel = ctx.clock.setTimeout(timed, everyMs);
    });
  };
  cancel = ctx.clock.setTimeout(timed, everyMs);
  return {
    runOnce() {
      if (stopped) return Promise.reject(new Error('the scheduler is stopped'));
      return enqueue();
    },
    async stop() {
      stopped = true;
      cancel();
      await current;
      if (shared) await releaseLease(ctx.db, SCHEDULER_LEASE, ctx.instanceId).catch((err: unknown) => ctx.log.warn({ err }, 'scheduler lease not released; another process takes it when it expires'));
    },
  };
}
