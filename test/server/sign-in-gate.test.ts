import { describe, expect, it } from 'vitest';
import { SignInGate, type SignIn, type SignInGateLimits } from '../../server/broker/sign-in-gate.js';
import { ManualClock } from '../../shared/clock.js';

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

/** A gate on a manual clock (its waits and check timeouts run on it); the check timeout is 10 s unless given. */
function gateOn(clock: ManualClock, limits: Omit<SignInGateLimits, 'checkTimeoutMs'> & { checkTimeoutMs?: number }) {
  return new SignInGate({ checkTimeoutMs: 10_000, ...limits }, () => clock.now(), (fn, ms) => clock.setTimeout(fn, ms));
}

describe('the sign-in gate (server/broker/sign-in-gate.ts)', () => {
  it('checks at most atOnce at a time and lets the rest in, in arrival order, as checks finish (also failed ones)', async () => {
    const log: string[] = [];
    const gate = gateOn(new ManualClock(), { atOnce: 2, waiting: 10, maxWaitMs: 5000 });
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
    expect(gate.counts).toEqual({ checked: 4, busy: 0, gone: 0, timedOut: 0 });
  });

  it('refuses as BUSY at once when the line is full, and skips a sign-in whose client left while it waited', async () => {
    const log: string[] = [];
    const gate = gateOn(new ManualClock(), { atOnce: 1, waiting: 2, maxWaitMs: 5000 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => signIn(log, n)) as [ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>];
    for (const s of [a, b, c, d]) gate.admit(s);
    expect(log).toEqual(['check a', 'BUSY d']);
    b.leave();
    await a.finish();
    // b is passed over without a check; c takes the slot.
    expect(log).toEqual(['check a', 'BUSY d', 'GONE b', 'check c']);
    expect(gate.counts).toEqual({ checked: 2, busy: 1, gone: 1, timedOut: 0 });
  });

  it('refuses newcomers as BUSY while the first in line has waited maxWaitMs, and takes them again once the line moves', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    const gate = gateOn(clock, { atOnce: 1, waiting: 100, maxWaitMs: 5000 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => signIn(log, n)) as [ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>, ReturnType<typeof signIn>];
    gate.admit(a);
    gate.admit(b);
    clock.set(4999);
    gate.admit(c);
    clock.set(5000);
    gate.admit(d);
    expect(log).toEqual(['check a', 'BUSY d']);
    await a.finish();
    // b (waited 5 s) is checked; c, the first in line now, has waited 1 ms. But a's check took 5 s: by that pace a
    // newcomer behind c would wait 5 s too, and is refused; once checks are quick again, newcomers wait again.
    gate.admit(signIn(log, 'e'));
    expect(log).toEqual(['check a', 'BUSY d', 'check b', 'BUSY e']);
    await b.finish();
    expect(gate.expectedWaitMs).toBe(0);
    gate.admit(signIn(log, 'f'));
    expect(log).toEqual(['check a', 'BUSY d', 'check b', 'BUSY e', 'check c']);
    expect(gate.waiting).toBe(1);
  });

  it('with waiting 0, refuses every sign-in that finds all slots taken', () => {
    const log: string[] = [];
    const gate = gateOn(new ManualClock(), { atOnce: 1, waiting: 0, maxWaitMs: 5000 });
    gate.admit(signIn(log, 'a'));
    gate.admit(signIn(log, 'b'));
    expect(log).toEqual(['check a', 'BUSY b']);
  });

  it('keeps its order over a long line (the line is compacted as it empties)', async () => {
    const log: string[] = [];
    const gate = gateOn(new ManualClock(), { atOnce: 1, waiting: 10_000, maxWaitMs: 60_000 });
    const all = Array.from({ length: 3000 }, (_, i) => signIn(log, String(i)));
    for (const s of all) gate.admit(s);
    for (const s of all) await s.finish();
    expect(log).toEqual(all.map((_, i) => `check ${i}`));
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
  });

  it('refuses a newcomer as BUSY when the recent pace of checks would not reach it within maxWaitMs', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    // Two slots, checks of 1 s each: a newcomer behind k others waits about k × 1 s / 2.
    const gate = gateOn(clock, { atOnce: 2, waiting: 1000, maxWaitMs: 5000 });
    const first = [signIn(log, 'a'), signIn(log, 'b')];
    for (const s of first) gate.admit(s);
    clock.advance(1000);
    for (const s of first) await s.finish();
    expect(gate.expectedWaitMs).toBe(0);
    // Slots taken again; then the line fills up to an expected wait of 5 s: 10 sign-ins (10 × 1000 / 2).
    const busyTwo = [signIn(log, 'c'), signIn(log, 'd')];
    for (const s of busyTwo) gate.admit(s);
    const line = Array.from({ length: 12 }, (_, i) => signIn(log, `w${i}`));
    for (const s of line) gate.admit(s);
    expect(gate.waiting).toBe(10);
    expect(gate.expectedWaitMs).toBe(5000);
    expect(log.filter((l) => l.startsWith('BUSY'))).toEqual(['BUSY w10', 'BUSY w11']);
    expect(gate.counts.busy).toBe(2);
  });

  it('gives the slot of a check that runs out of time back, answers it TIMEOUT once, and ignores its late end', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    const gate = gateOn(clock, { atOnce: 1, waiting: 10, maxWaitMs: 60_000, checkTimeoutMs: 10_000 });
    const [hung, next] = [signIn(log, 'hung'), signIn(log, 'next')];
    gate.admit(hung);
    gate.admit(next);
    clock.advance(9999);
    expect(log).toEqual(['check hung']);
    clock.advance(1);
    expect(log).toEqual(['check hung', 'TIMEOUT hung', 'check next']);
    expect(gate.counts.timedOut).toBe(1);
    // The hung check ends at last: no second answer from the gate, and the slot count stays right.
    await hung.finish();
    expect(gate.active).toBe(1);
    await next.finish();
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
    expect(log).toEqual(['check hung', 'TIMEOUT hung', 'check next']);
  });

  it('answers BUSY a sign-in whose turn comes after the longest wait, instead of checking it late', async () => {
    const log: string[] = [];
    const clock = new ManualClock(0);
    const gate = gateOn(clock, { atOnce: 1, waiting: 10, maxWaitMs: 1000, checkTimeoutMs: 10_000 });
    const [quick, inTime, hung, late, early] = [signIn(log, 'quick'), signIn(log, 'inTime'), signIn(log, 'hung'), signIn(log, 'late'), signIn(log, 'early')];
    // A turn that comes just within the longest wait is checked.
    gate.admit(quick);
    gate.admit(inTime);
    clock.advance(999);
    await quick.finish();
    expect(log).toEqual(['check quick', 'check inTime']);
    await inTime.finish();
    log.length = 0;
    gate.admit(hung);
    gate.admit(late);
    clock.advance(10_000);
    expect(log).toEqual(['check hung', 'TIMEOUT hung', 'BUSY late']);
    expect(gate.counts.busy).toBe(1);
    // A newcomer now finds the slot free and is checked.
    gate.admit(early);
    expect(log).toEqual(['check hung', 'TIMEOUT hung', 'BUSY late', 'check early']);
  });
});
