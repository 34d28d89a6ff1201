import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { clockWindowStore } from '../../server/http/rate-limit-store.js';

function incr(store: { incr: (k: string, cb: (e: Error | null, r?: { current: number; ttl: number }) => void, w: number, m: number) => void }, key: string, window = 60_000) {
  let out: { current: number; ttl: number } | undefined;
  store.incr(key, (_e, r) => (out = r), window, 10);
  return out;
}

describe('rate-limit window store on the server clock', () => {
  it('counts per key inside a window and starts again when the clock passes its end', () => {
    const clock = new ManualClock();
    const Store = clockWindowStore(clock);
    const store = new Store({});
    expect(incr(store, 'a')).toEqual({ current: 1, ttl: 60_000 });
    clock.advance(20_000);
    expect(incr(store, 'a')).toEqual({ current: 2, ttl: 40_000 });
    expect(incr(store, 'b')).toEqual({ current: 1, ttl: 60_000 });
    clock.advance(40_000);
    expect(incr(store, 'a')).toEqual({ current: 1, ttl: 60_000 });
  });

  it('keeps at most maxKeys keys, dropping ended windows first, then the oldest', () => {
    const clock = new ManualClock();
    const store = new (clockWindowStore(clock, 3))({});
    incr(store, 'old');
    clock.advance(61_000);
    for (const k of ['x', 'y', 'z']) incr(store, k);
    // 'old' had ended and was dropped; the live windows go on counting.
    expect(incr(store, 'x')?.current).toBe(2);
    incr(store, 'w'); // over the cap: the oldest live window ('x') goes
    expect(incr(store, 'y')?.current).toBe(2);
    expect(incr(store, 'x')?.current).toBe(1);
  });
});
