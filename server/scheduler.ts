import type { ServerContext } from './context.js';
import { expireCommands } from './commands/commands.js';
import { runParcelExpiry } from './parcels/expiry.js';
import { pruneBrokerTokenUses } from './broker/device-auth.js';
import { maintainKeys } from './keys/key-rotation.js';

/** The periodic jobs, each on its own: one that fails is logged and never holds the others back. */
const JOBS: readonly { name: string; run: (ctx: ServerContext) => Promise<unknown> }[] = [
  { name: 'commands expiry', run: (ctx) => expireCommands(ctx) },
  { name: 'parcel windows', run: (ctx) => runParcelExpiry(ctx) },
  { name: 'signing keys', run: (ctx) => maintainKeys(ctx) },
  { name: 'broker token uses', run: (ctx) => pruneBrokerTokenUses(ctx.db, ctx.clock.now()) },
];

/**
 * Periodic work on the injected clock (commands past their expiry, reservations and pickup windows that ended,
 * key activation and retirement, forgetting old broker token ids). Returns a function that stops it.
 */
export function startScheduler(ctx: ServerContext, everyMs = 1000): () => void {
  let stopped = false;
  let cancel = () => {};
  const tick = () => {
    void Promise.all(
      JOBS.map((job) => job.run(ctx).catch((err: unknown) => ctx.log.error({ err, job: job.name }, 'scheduled job failed'))),
    ).finally(() => {
      if (!stopped) cancel = ctx.clock.setTimeout(tick, everyMs);
    });
  };
  cancel = ctx.clock.setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    cancel();
  };
}
