import { describe, expect, it } from 'vitest';
import {
  PARCEL_TRIGGERS,
  extendWindow,
  holdsCompartment,
  isFinal,
  nextStatus,
  openWindow,
  pauseWindow,
  remindersDue,
  resumeWindow,
  windowEnded,
  type ParcelTrigger,
  type PickupWindow,
} from '../../server/parcels/lifecycle.js';
import { PARCEL_STATUSES, type ParcelStatus } from '../../shared/api/parcels.js';

/** Every status × every trigger: the status it leads to, or null for a refusal. Nothing is left implicit. */
const EXPECTED: Record<ParcelStatus, Record<ParcelTrigger, ParcelStatus | null>> = {
  booked: { deposit: 'in_locker', pickup: 'picked_up', cancel: 'cancelled', expire: null, collect: null },
  in_locker: { deposit: null, pickup: 'picked_up', cancel: null, expire: 'expired', collect: null },
  expired: { deposit: null, pickup: 'picked_up', cancel: null, expire: null, collect: 'returned' },
  picked_up: { deposit: null, pickup: null, cancel: null, expire: null, collect: null },
  returned: { deposit: null, pickup: null, cancel: null, expire: null, collect: null },
  cancelled: { deposit: 'in_locker', pickup: 'picked_up', cancel: null, expire: null, collect: null },
};

describe('parcel state machine', () => {
  const cases = PARCEL_STATUSES.flatMap((s) => PARCEL_TRIGGERS.map((tr) => [s, tr, EXPECTED[s][tr]] as const));
  it('the table covers every status and trigger', () => {
    expect(cases).toHaveLength(PARCEL_STATUSES.length * PARCEL_TRIGGERS.length);
  });
  it.each(cases)('%s + %s → %s', (from, trigger, to) => {
    expect(nextStatus(from, trigger)).toBe(to);
  });
  it('picked up and returned are final: nothing moves them', () => {
    expect(PARCEL_STATUSES.filter(isFinal)).toEqual(['picked_up', 'returned']);
    for (const s of PARCEL_STATUSES.filter(isFinal)) for (const tr of PARCEL_TRIGGERS) expect(nextStatus(s, tr)).toBeNull();
  });
  it('only booked, in-locker and expired parcels hold a compartment', () => {
    expect(PARCEL_STATUSES.filter(holdsCompartment)).toEqual(['booked', 'in_locker', 'expired']);
  });
});

const H = 3600_000;
const running = (deadline: number, over: Partial<PickupWindow> = {}): PickupWindow => ({ deadline, pausedSince: null, pausedMs: 0, extensions: 0, ...over });

describe('pickup window', () => {
  it('opens at the deposit for the configured window', () => {
    expect(openWindow(1000, 72 * H)).toEqual(running(1000 + 72 * H));
  });

  it('credits a deposit made during (or just before) the outage that kept its event from the server', () => {
    // Deposit during the outage [5h, 8h] at 6h: 2 hours credited.
    expect(openWindow(6 * H, 72 * H, { from: 5 * H, to: 8 * H })).toEqual(running(6 * H + 74 * H, { pausedMs: 2 * H }));
    // Deposit before the outage began, reported after it: the whole outage.
    expect(openWindow(4 * H, 72 * H, { from: 5 * H, to: 8 * H })).toMatchObject({ pausedMs: 3 * H });
    // An outage that ended before the deposit changes nothing.
    expect(openWindow(9 * H, 72 * H, { from: 5 * H, to: 8 * H })).toEqual(running(81 * H));
  });

  it('pauses a running window, and refuses to pause one that already stands still', () => {
    const paused = pauseWindow(running(10 * H), 2 * H);
    expect(paused).toEqual(running(10 * H, { pausedSince: 2 * H }));
    expect(pauseWindow(paused!, 3 * H)).toBeNull();
  });

  it('resumes with the end pushed by the pause, and refuses to resume a running window', () => {
    const resumed = resumeWindow(running(10 * H, { pausedSince: 2 * H, pausedMs: H }), 5 * H);
    expect(resumed).toEqual(running(13 * H, { pausedMs: 4 * H }));
    expect(resumeWindow(resumed!, 6 * H)).toBeNull();
    // A clock that went back never shortens the window.
    expect(resumeWindow(running(10 * H, { pausedSince: 5 * H }), 4 * H)).toEqual(running(10 * H));
  });

  it('never ends while paused; ends at its deadline while running', () => {
    expect(windowEnded(running(10 * H), 10 * H - 1)).toBe(false);
    expect(windowEnded(running(10 * H), 10 * H)).toBe(true);
    expect(windowEnded(running(10 * H, { pausedSince: 9 * H }), 20 * H)).toBe(false);
  });

  describe('extension', () => {
    const rules = { extensionMs: 24 * H, maxExtensions: 1 };
    it('adds the configured time once, paused or not', () => {
      expect(extendWindow('in_locker', running(10 * H), rules)).toEqual({ ok: true, window: running(34 * H, { extensions: 1 }) });
      expect(extendWindow('in_locker', running(10 * H, { pausedSince: H }), rules)).toMatchObject({ ok: true, window: { deadline: 34 * H, pausedSince: H } });
    });
    it('refuses a second extension past the limit', () => {
      expect(extendWindow('in_locker', running(10 * H, { extensions: 1 }), rules)).toEqual({ ok: false, code: 'EXTENSION_LIMIT_REACHED' });
      expect(extendWindow('in_locker', running(10 * H), { ...rules, maxExtensions: 0 })).toEqual({ ok: false, code: 'EXTENSION_LIMIT_REACHED' });
    });
    it.each(PARCEL_STATUSES.filter((s) => s !== 'in_locker'))('refuses a parcel that is %s', (status) => {
      expect(extendWindow(status, running(10 * H), rules)).toEqual({ ok: false, code: 'PARCEL_NOT_IN_LOCKER' });
    });
    it('refuses a parcel whose window is not open yet', () => {
      expect(extendWindow('in_locker', null, rules)).toEqual({ ok: false, code: 'PARCEL_NOT_IN_LOCKER' });
    });
  });

  describe('reminders', () => {
    const w = running(72 * H);
    it('are due once the deadline is as close as their lead, and not before', () => {
      expect(remindersDue(w, 0, [24 * H / 1000, 2 * H / 1000], new Set(), 47 * H)).toEqual([]);
      expect(remindersDue(w, 0, [24 * H / 1000, 2 * H / 1000], new Set(), 48 * H)).toEqual([86400]);
      expect(remindersDue(w, 0, [24 * H / 1000, 2 * H / 1000], new Set([86400]), 71 * H)).toEqual([7200]);
    });
    it('are not sent twice, nor while paused, nor after the end', () => {
      expect(remindersDue(w, 0, [86400], new Set([86400]), 60 * H)).toEqual([]);
      expect(remindersDue({ ...w, pausedSince: 50 * H }, 0, [86400], new Set(), 60 * H)).toEqual([]);
      expect(remindersDue(w, 0, [86400], new Set(), 72 * H)).toEqual([]);
    });
    it('skip a lead longer than the whole window', () => {
      expect(remindersDue(running(12 * H), 0, [86400], new Set(), 11 * H)).toEqual([]);
    });
  });
});
