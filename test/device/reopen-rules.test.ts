import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { DeviceEvent } from '../../shared/messages.js';
import { RecentPickups, decideReopen } from '../../device/reopen-rules.js';

const empty = { parcelId: null, busy: false, fault: null };
const pickedUp = (at: number, extra: Partial<DeviceEvent> = {}): DeviceEvent => ({
  seq: 1,
  id: 'e1',
  bootId: 'b1',
  at,
  type: 'parcel.picked_up',
  jti: 'j1',
  compartmentId: 'A1',
  parcelId: 'p1',
  ...extra,
});

describe('reopen once after a pickup', () => {
  it('opens once within the window, never twice, never after it', () => {
    const clock = new ManualClock();
    const recent = new RecentPickups(60_000);
    recent.observe([pickedUp(clock.now())], clock.now());
    clock.advance(59_000);
    const p = recent.get('j1');
    expect(decideReopen(p, { now: clock.now(), windowMs: 60_000, compartment: empty })).toBeNull();
    recent.markReopened('j1');
    expect(decideReopen(recent.get('j1'), { now: clock.now(), windowMs: 60_000, compartment: empty })).toBe('ALREADY_REOPENED');
  });

  it('refuses after the window, and forgets the pickup', () => {
    const clock = new ManualClock();
    const recent = new RecentPickups(60_000);
    recent.observe([pickedUp(clock.now())], clock.now());
    clock.advance(60_001);
    expect(decideReopen(recent.get('j1'), { now: clock.now(), windowMs: 60_000, compartment: empty })).toBe('REOPEN_WINDOW_PASSED');
    recent.observe([], clock.now());
    expect(recent.get('j1')).toBeUndefined();
    expect(decideReopen(undefined, { now: clock.now(), windowMs: 60_000, compartment: empty })).toBe('NO_RECENT_PICKUP');
  });

  it('refuses when the compartment holds something again, is busy or faulty', () => {
    const now = Date.UTC(2026, 0, 1);
    const p = { jti: 'j1', compartmentId: 'A1', parcelId: 'p1', closedAt: now, reopened: false };
    const ctx = (compartment: Parameters<typeof decideReopen>[1]['compartment']) => ({ now: now + 1000, windowMs: 60_000, compartment });
    expect(decideReopen(p, ctx({ ...empty, parcelId: 'p2' }))).toBe('COMPARTMENT_IN_USE');
    expect(decideReopen(p, ctx({ ...empty, busy: true }))).toBe('COMPARTMENT_IN_USE');
    expect(decideReopen(p, ctx({ ...empty, fault: 'jam' }))).toBe('COMPARTMENT_IN_USE');
    expect(decideReopen(p, ctx(undefined))).toBe('COMPARTMENT_IN_USE');
  });

  it('a window of 0 turns reopening off; recovered pickups (with a reason) are not reopenable', () => {
    const off = new RecentPickups(0);
    off.observe([pickedUp(0)], 0);
    expect(off.get('j1')).toBeUndefined();
    const on = new RecentPickups(60_000);
    on.observe([pickedUp(0, { reason: 'RECOVERED_AFTER_RESTART' })], 0);
    expect(on.get('j1')).toBeUndefined();
  });
});
