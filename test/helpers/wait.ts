/**
 * Polls `cond` until it holds; fails with `what` after `timeoutMs`.
 * Going away: tests wait with vitest's `expect.poll` (defaults in vitest.config.ts); test/integration/event-acks.test.ts
 * is the last user, moved over when its owner's change lands.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
