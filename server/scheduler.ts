import type { ServerContext } from './context.js';
import { expireCommands } from './commands/commands.js';
import { runParcelExpiry } from './parcels/expiry.js';
import { pruneBrokerTokenUses } from './broker/device-auth.js';

/**
 * Periodic work on the injected clock: commands past their expiry, reservations and pickup windows that ended.
 * Returns a function that stops it.
 */
export function startScheduler(ctx: ServerContext, everyMs = 1000): () => void {
  let stopped = false;
  let cancel = () => {};
  const tick = () => {
    Promise.all([expireCommands(ctx), runParcelExpiry(ctx), pruneBrokerTokenUses(ctx.db, ctx.clock.now())])
      .then(([commands, parcels]) => {
        if (commands) ctx.log.info({ expired: commands }, 'commands expired');
        if (parcels.released || parcels.expired) ctx.log.info(parcels, 'parcel windows ended');
      })
      .catch((err: unknown) => ctx.log.error({ err }, 'scheduler tick failed'))
      .finally(() => {
        if (!stopped) cancel = ctx.clock.setTimeout(tick, everyMs);
      });
  };
  cancel = ctx.clock.setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    cancel();
  };
}
