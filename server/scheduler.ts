import type { ServerContext } from './context.js';
import { expireCommands } from './commands/commands.js';

/** Periodic work on the injected clock: commands past their expiry. Returns a function that stops it. */
export function startScheduler(ctx: ServerContext, everyMs = 1000): () => void {
  let stopped = false;
  let cancel = () => {};
  const tick = () => {
    expireCommands(ctx)
      .then((n) => {
        if (n) ctx.log.info({ expired: n }, 'commands expired');
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
