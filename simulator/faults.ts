import type { SimLocker } from './fleet.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

export interface OutagePlan {
  lockerId: string;
  startMs: number;
  durationMs: number;
}

/** Picks `fraction` of the lockers and, for each, when its network goes down and for how long. */
export function planOutages(lockers: readonly SimLocker[], fraction: number, random: () => number, windowMs = 3000): OutagePlan[] {
  const count = Math.round(fraction * lockers.length);
  return shuffled(lockers, random)
    .slice(0, count)
    .map((l) => ({ lockerId: l.id, startMs: Math.floor(random() * windowMs), durationMs: 1000 + Math.floor(random() * 3000) }));
}

/** Cuts and restores each planned locker's network (a real TCP cut, at its proxy). Resolves when all are back. */
export async function runOutages(lockers: readonly SimLocker[], plan: readonly OutagePlan[]): Promise<void> {
  await Promise.all(
    plan.map(async (p) => {
      const l = lockers.find((x) => x.id === p.lockerId);
      if (!l) return;
      await sleep(p.startMs);
      l.proxy.cut();
      await sleep(p.durationMs);
      l.proxy.restore();
    }),
  );
}

/**
 * Kills `count` agents with SIGKILL mid-flow, one after another: each time a random locker, preferably while
 * one of its doors is open (someone is depositing or picking up), and starts it again.
 */
export async function runCrashes(lockers: readonly SimLocker[], count: number, random: () => number, running: () => boolean): Promise<number> {
  let done = 0;
  for (let i = 0; i < count && running(); i++) {
    await sleep(300 + Math.floor(random() * 700));
    const target = lockers[Math.floor(random() * lockers.length)];
    if (!target?.crashAndRestart) continue;
    const until = Date.now() + 4000;
    while (running() && Date.now() < until && !target.hardware.compartments().some((c) => target.hardware.isDoorOpen(c.id))) await sleep(5);
    await target.crashAndRestart(200 + Math.floor(random() * 300));
    done++;
  }
  return done;
}
