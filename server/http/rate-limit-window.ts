import type { Clock } from '../../shared/clock.js';

interface Window {
  count: number;
  startedAt: number;
}

/**
 * Fixed-window counters by key (a client address), on the injected clock: `count` adds one and returns the
 * window's count, `giveBack` takes one back, `peek` reads it without counting. At most `maxKeys` keys, dropping ended windows first and then
 * the oldest, so a flood of addresses cannot grow it without bound.
 */
export class WindowCounter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  count(key: string): number {
    const now = this.clock.now();
    let w = this.#current(key, now);
    if (!w) {
      w = { count: 0, startedAt: now };
      // Re-inserting keeps the map in window-start order, which pruning relies on.
      this.#windows.delete(key);
      this.#windows.set(key, w);
      if (this.#windows.size > this.maxKeys) this.#prune(now);
    }
    return ++w.count;
  }

  /** Takes back one count of the key's current window (an attempt that turned out to be legitimate). */
  giveBack(key: string): void {
    const w = this.#current(key, this.clock.now());
    if (w && w.count > 0) w.count--;
  }

  peek(key: string): number {
    return this.#current(key, this.clock.now())?.count ?? 0;
  }

  /** Milliseconds until the key's window ends (0 when it has none). */
  msLeft(key: string): number {
    const now = this.clock.now();
    const w = this.#current(key, now);
    return w ? w.startedAt + this.windowMs - now : 0;
  }

  #current(key: string, now: number): Window | undefined {
    const w = this.#windows.get(key);
    return w && w.startedAt + this.windowMs > now ? w : undefined;
  }

  #prune(now: number): void {
    for (const [key, w] of this.#windows) {
      if (w.startedAt + this.windowMs > now && this.#windows.size <= this.maxKeys) break;
      this.#windows.delete(key);
    }
  }
}
