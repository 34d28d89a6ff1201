import { describe, expect, it } from 'vitest';
import { findBurstAlarm } from '../../server/alarms/burst-alarm.js';
import {
  HOUR_MS,
  approvalVerdict,
  burstKey,
  burstsReached,
  distinctLockersVerdict,
  occupiedDecision,
  openTtlSec,
  queueVerdict,
  windowVerdict,
} from '../../server/commands/remote-open-rules.js';

const now = 10 * HOUR_MS;

describe('remote-open rules (pure)', () => {
  it('a sliding window refuses the one over the limit until the limit-th newest leaves it', () => {
    expect(windowVerdict([now - 1000, now - 2000], 3, now)).toEqual({ ok: true });
    expect(windowVerdict([now - 1000, now - 2000, now - 50_000], 3, now)).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect(windowVerdict([now - 10, now - 20, now - 30], 3, now, HOUR_MS)).toEqual({ ok: false, retryAfterMs: HOUR_MS - 30 });
  });

  it('distinct lockers per hour: repeats in a locker already opened pass, a new locker over the cap waits for the oldest to leave', () => {
    const opened = new Map([
      ['lk_a', now - 50 * 60_000],
      ['lk_b', now - 10 * 60_000],
      ['lk_c', now - 1000],
    ]);
    expect(distinctLockersVerdict(opened, 'lk_d', 4, now)).toEqual({ ok: true });
    expect(distinctLockersVerdict(opened, 'lk_b', 3, now)).toEqual({ ok: true });
    expect(distinctLockersVerdict(opened, 'lk_d', 3, now)).toEqual({ ok: false, retryAfterMs: 10 * 60_000 });
    // Over the cap by two (the cap was lowered): the second oldest must leave too.
    expect(distinctLockersVerdict(opened, 'lk_d', 2, now)).toEqual({ ok: false, retryAfterMs: 50 * 60_000 });
  });

  it('queued opens: only opens for an offline locker count against the cap', () => {
    expect(queueVerdict(true, 99, 5)).toBe(true);
    expect(queueVerdict(false, 4, 5)).toBe(true);
    expect(queueVerdict(false, 5, 5)).toBe(false);
    expect(queueVerdict(false, 0, 0)).toBe(false);
  });

  it('an occupied compartment opens on the daily allowance, then needs approval; an empty one opens at once', () => {
    expect(occupiedDecision(false, 99, 3)).toBe('send');
    expect(occupiedDecision(true, 0, 3)).toBe('send_on_allowance');
    expect(occupiedDecision(true, 2, 3)).toBe('send_on_allowance');
    expect(occupiedDecision(true, 3, 3)).toBe('needs_approval');
    expect(occupiedDecision(true, 0, 0)).toBe('needs_approval');
  });

  it('approval: not by the requester, only while pending and before expiry; an admin may approve an operator', () => {
    const pending = { state: 'pending_approval', requested_by: 'operator:a', expires_at: now + 1 };
    expect(approvalVerdict(pending, 'operator:b', now)).toEqual({ ok: true });
    expect(approvalVerdict(pending, 'admin:admin', now)).toEqual({ ok: true });
    expect(approvalVerdict(pending, 'operator:a', now)).toEqual({ ok: false, code: 'REMOTE_OPEN_SELF_APPROVAL' });
    expect(approvalVerdict(pending, 'operator:b', now + 1)).toEqual({ ok: false, code: 'REMOTE_OPEN_REQUEST_NOT_PENDING', expired: true });
    expect(approvalVerdict({ ...pending, state: 'approved' }, 'operator:b', now)).toEqual({ ok: false, code: 'REMOTE_OPEN_REQUEST_NOT_PENDING', expired: false });
    expect(approvalVerdict({ ...pending, state: 'expired' }, 'operator:b', now)).toEqual({ ok: false, code: 'REMOTE_OPEN_REQUEST_NOT_PENDING', expired: true });
  });

  it('an open waits for its locker at most the maximum: the default is capped, a longer ask refused', () => {
    expect(openTtlSec(undefined, 300, 600)).toBe(300);
    expect(openTtlSec(undefined, 86_400, 600)).toBe(600);
    expect(openTtlSec(600, 300, 600)).toBe(600);
    expect(openTtlSec(86_400, 300, 600)).toBeNull();
  });

  it('bursts: per principal and fleet-wide once the attempts in the window reach the threshold; one alarm per key', () => {
    const t = { operator: 5, fleet: 20 };
    expect(burstsReached({ operator: 4, fleet: 19 }, t, 'operator:a')).toEqual([]);
    expect(burstsReached({ operator: 5, fleet: 5 }, t, 'operator:a')).toEqual([{ scope: 'operator', actor: 'operator:a' }]);
    expect(burstsReached({ operator: 1, fleet: 20 }, t, 'operator:a')).toEqual([{ scope: 'fleet' }]);
    expect(burstKey({ scope: 'operator', actor: 'operator:a' })).toBe('operator:operator:a');
    expect(burstKey({ scope: 'fleet' })).toBe('fleet');
    const rows = [
      { id: 'al_1', detail: JSON.stringify({ key: 'operator:operator:a' }) },
      { id: 'al_2', detail: null },
      { id: 'al_3', detail: JSON.stringify({ key: 'fleet' }) },
    ];
    expect(findBurstAlarm(rows, 'fleet')).toBe('al_3');
    expect(findBurstAlarm(rows, 'operator:operator:b')).toBeNull();
  });
});
