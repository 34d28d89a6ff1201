import { describe, expect, it } from 'vitest';
import { ConnectSlots } from '../../bench/connect-slots.js';

describe('bench connect slots', () => {
  it('lets at most the limit connect at once, the rest in arrival order as slots are given back', async () => {
    const slots = new ConnectSlots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(slots.inUse).toBe(2);
    expect(slots.waiting).toBe(2);
    a();
    a(); // giving the same slot back twice frees one slot, not two
    const releaseC = await c;
    await Promise.resolve();
    expect(order).toEqual(['c']);
    expect(slots.inUse).toBe(2);
    expect(slots.waiting).toBe(1);
    b();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    releaseD();
    expect(slots.inUse).toBe(0);
    expect(slots.counts).toEqual({ waited: 2 });
  });

  it('does not limit anything at 0', async () => {
    const slots = new ConnectSlots(0);
    const releases = await Promise.all(Array.from({ length: 1000 }, () => slots.acquire()));
    expect(slots.inUse).toBe(1000);
    expect(slots.counts.waited).toBe(0);
    for (const r of releases) r();
    expect(slots.inUse).toBe(0);
  });

  it('keeps its order over a long line (the line is compacted as it empties)', async () => {
    const slots = new ConnectSlots(1);
    let release = await slots.acquire();
    const got: number[] = [];
    const waits = Array.from({ length: 3000 }, (_, i) => slots.acquire().then((r) => (got.push(i), r)));
    for (let i = 0; i < 3000; i++) {
      release();
      release = await (waits[i] as Promise<() => void>);
    }
    release();
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(slots.inUse).toBe(0);
    expect(slots.waiting).toBe(0);
  });

  it('refuses a limit that is not a whole number', () => {
    expect(() => new ConnectSlots(-1)).toThrow(/integer/);
    expect(() => new ConnectSlots(1.5)).toThrow(/integer/);
  });
});
