import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseProfile } from '../../bench/profile.js';
import { percentiles, ratio, round } from '../../bench/stats.js';
import { judge } from '../../bench/targets.js';

describe('bench statistics', () => {
  it('percentiles are nearest-rank over the sorted samples, whatever their order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(percentiles(values)).toEqual({ n: 100, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(percentiles([7])).toEqual({ n: 1, p50: 7, p90: 7, p99: 7, max: 7 });
    expect(percentiles([3, 1, 2])).toMatchObject({ p50: 2, p99: 3 });
  });

  it('percentiles of no samples are zeros, not NaN', () => {
    expect(percentiles([])).toEqual({ n: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('ratios are fractions with three digits, and 0 against a zero limit', () => {
    expect(ratio(1, 3)).toBe(0.333);
    expect(ratio(2000, 3874)).toBe(0.516);
    expect(ratio(5, 0)).toBe(0);
    expect(round(12.3456, 2)).toBe(12.35);
  });
});

describe('targets', () => {
  const bookings = (rps: number, bound: number) => ({ bookings: { rps }, signingBound: bound, bareFastify: { rps: 5000 }, ratios: { vsSigningBound: ratio(rps, bound), vsBareFastify: ratio(rps, 5000) } });

  it('judge bookings against half the signing rate', () => {
    expect(judge('bookings', bookings(2000, 3874))[0]?.met).toBe(true);
    expect(judge('bookings', bookings(189, 3874))[0]?.met).toBe(false);
  });

  it('do not judge a fleet-size target on a quick run that measured fewer lockers', () => {
    const storm = { lockers: 1000, events: 5000, shipped: { absorbed: true, lost: 0, committed: 5000, stalled: false, crashed: '', ackAllMs: 100 } };
    expect(judge('storm', storm)[0]?.met).toBeNull();
    expect(judge('storm', { ...storm, lockers: 10_000, shipped: { ...storm.shipped, lost: 1 } })[0]?.met).toBe(false);
  });

  it('an event lost fails the events target whatever the rate', () => {
    const events = (lost: number) => ({ lockstep: { eventsPerSec: 30_000, lost }, bareAedes: { eventsPerSec: 36_000 }, ratios: { vsBareAedes: 0.83 } });
    expect(judge('events', events(0))[0]?.met).toBe(true);
    expect(judge('events', events(1))[0]?.met).toBe(false);
  });
});

describe('profile summary', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ranks self time by frame and by area, leaving idle samples out of the shares', () => {
    const frame = (id: number, functionName: string, url: string, hitCount: number) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, hitCount });
    const file = path.join(dir, 'p.cpuprofile');
    const repo = path.resolve(import.meta.dirname, '../..');
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          frame(1, '(root)', '', 0),
          frame(2, '(idle)', '', 50),
          frame(3, 'run', '', 30),
          frame(4, 'compileQuery', `file://${repo}/node_modules/kysely/dist/esm/x.js`, 15),
          frame(5, 'handleEventBatch', `file://${repo}/server/sync/handle-events.ts`, 5),
        ],
      }),
    );
    const s = summariseProfile(file);
    expect(s.busy).toBe(0.5);
    expect(s.top[0]).toEqual({ frame: 'run', share: 0.6 });
    expect(s.top).toContainEqual({ frame: 'compileQuery kysely/dist/esm/x.js:10', share: 0.3 });
    expect(s.areas).toContainEqual({ area: 'kysely', share: 0.3 });
    expect(s.areas).toContainEqual({ area: 'server/sync', share: 0.1 });
  });
});
