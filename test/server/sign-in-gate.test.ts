import { describe, expect, it } from 'vitest';
import { SignInGate, type SignIn } from '../../server/broker/sign-in-gate.js';

/** A sign-in whose check the test finishes (or fails) by hand, recording what the gate did with it. */
function signIn(log: string[], name: string) {
  let finish: (ok: boolean) => void = () => undefined;
  let gone = false;
  const s: SignIn & { finish(ok?: boolean): Promise<void>; leave(): void } = {
    gone: () => gone,
    check: () => {
      log.push(`check ${name}`);
      return new Promise<void>((resolve, reject) => (finish = (ok) => (ok ? resolve() : reject(new Error('db down')))));
    },
    refuse: (why) => log.push(`${why} ${name}`),
    async finish(ok = true) {
      finish(ok);
      // the slot is given back after the check settles: a few turns of the microtask queue
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
    leave: () => void (gone = true),
  };
  return s;
}

describe('the sign-in gate (server/broker/sign-in-gate.ts)', () => {
  it('checks at most atOnce at a time and lets the rest in, in arrival order, as checks finish (also failed ones)', async () => {
    const log: string[] = [];
    const gate = new SignInGate({ atOnce: 2, waiting: 10, maxWaitMs: 5000 }, () => 0);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => signIn(log, n)) as [ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>];
    for (const s of [a, b, c, d]) gate.admit(s);
    expect(log).toEqual(['check a', 'check b']);
    expect([gate.active, gate.waiting]).toEqual([2, 2]);
    await b.finish(false);
    expect(log).toEqual(['check a', 'check b', 'check c']);
    await a.finish();
    expect(log).toEqual(['check a', 'check b', 'check c', 'check d']);
    await c.finish();
    await d.finish();
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
    expect(gate.counts).toEqual({ checked: 4, busy: 0, gone: 0 });
  });

  it('refuses as BUSY at once when the line is full, and skips a sign-in whose client left while it waited', async () => {
    const log: string[] = [];
    const gate = new SignInGate({ atOnce: 1, waiting: 2, maxWaitMs: 5000 }, () => 0);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => signIn(log, n)) as [ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>];
    for (const s of [a, b, c, d]) gate.admit(s);
    expect(log).toEqual(['check a', 'BUSY d']);
    b.leave();
    await a.finish();
    // b is passed over without a check; c takes the slot.
    expect(log).toEqual(['check a', 'BUSY d', 'GONE b', 'check c']);
    expect(gate.counts).toEqual({ checked: 2, busy: 1, gone: 1 });
  });

  it('refuses newcomers as BUSY while the first in line has waited maxWaitMs, and takes them again once the line moves', async () => {
    const log: string[] = [];
    let now = 0;
    const gate = new SignInGate({ atOnce: 1, waiting: 100, maxWaitMs: 5000 }, () => now);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => signIn(log, n)) as [ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>];
    gate.admit(a);
    gate.admit(b);
    now = 4999;
    gate.admit(c);
    now = 5000;
    gate.admit(d);
    expect(log).toEqual(['check a', 'BUSY d']);
    await a.finish();
    // b (waited 5 s) is checked; c, the first in line now, has waited 1 ms: newcomers wait again.
    const e = signIn(log, 'e');
    gate.admit(e);
    expect(log).toEqual(['check a', 'BUSY d', 'check b']);
    expect(gate.waiting).toBe(2);
  });

  it('with waiting 0, refuses every sign-in that finds all slots taken', () => {
    const log: string[] = [];
    const gate = new SignInGate({ atOnce: 1, waiting: 0, maxWaitMs: 5000 }, () => 0);
    gate.admit(signIn(log, 'a'));
    gate.admit(signIn(log, 'b'));
    expect(log).toEqual(['check a', 'BUSY b']);
  });

  it('keeps its order over a long line (the line is compacted as it empties)', async () => {
    const log: string[] = [];
    const gate = new SignInGate({ atOnce: 1, waiting: 10_000, maxWaitMs: 60_000 }, () => 0);
    const all = Array.from({ length: 3000 }, (_, i) => signIn(log, String(i)));
    for (const s of all) gate.admit(s);
    for (const s of all) await s.finish();
    expect(log).toEqual(all.map((_, i) => `check ${i}`));
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
  });
});
