import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../shared/messages.js';
import { errorOf, idleTimeoutOf, viewAfterEvents, type BatchProgress } from '../../device/screen/screen-state.js';

let seq = 0;
const ev = (type: DeviceEvent['type'], extra: Partial<DeviceEvent> = {}): DeviceEvent => ({ seq: ++seq, id: `e${seq}`, bootId: 'b', at: 0, type, ...extra });

describe('the screen follows the agent', () => {
  it('pickup: accepted → open, door opened → take and close, picked up → done', () => {
    let v = viewAfterEvents({ kind: 'code' }, [ev('code.accepted', { action: 'pickup', compartmentId: 'A1', jti: 'j' })]);
    expect(v).toEqual({ kind: 'open', door: 'A1', action: 'pickup' });
    v = viewAfterEvents(v, [ev('door.opened', { compartmentId: 'A1' })]);
    expect(v).toEqual({ kind: 'closeDoor', door: 'A1', action: 'pickup' });
    v = viewAfterEvents(v, [ev('door.opened', { compartmentId: 'B9' }), ev('door.forced_open', { compartmentId: 'B9' })]);
    expect(v.kind).toBe('closeDoor');
    v = viewAfterEvents(v, [ev('door.closed', { compartmentId: 'A1' }), ev('parcel.picked_up', { compartmentId: 'A1' })]);
    expect(v).toEqual({ kind: 'done', action: 'pickup', door: 'A1' });
  });

  it('a deposit that does not fit follows the parcel to the larger door; no door left is an error in words', () => {
    const open = { kind: 'closeDoor' as const, door: 'A1', action: 'deposit' as const };
    expect(viewAfterEvents(open, [ev('parcel.moved', { fromCompartmentId: 'A1', compartmentId: 'B1' })])).toEqual({ kind: 'open', door: 'B1', action: 'deposit', movedFrom: 'A1' });
    expect(viewAfterEvents(open, [ev('session.aborted', { compartmentId: 'A1', reason: 'NO_COMPARTMENT_FOR_MOVE' })])).toEqual({ kind: 'error', error: { code: 'noCompartment' } });
  });

  it('batch: after a parcel goes in, the next one waits; after the last, done with the count', () => {
    const batch: BatchProgress = { jti: 'j', index: 1, total: 3, done: 1, next: { parcelId: 'p2', door: 'A2' } };
    const open = viewAfterEvents({ kind: 'code' }, [ev('code.accepted', { action: 'deposit_batch', compartmentId: 'A1' })], batch);
    expect(open).toMatchObject({ kind: 'open', batch: { index: 1, total: 3 } });
    const after = { jti: 'j', index: 2, total: 3, done: 1, next: { parcelId: 'p2', door: 'A2' } };
    expect(viewAfterEvents(open, [ev('parcel.deposited', { compartmentId: 'A1' })], after)).toEqual({ kind: 'batchNext', batch: after, skipped: 0 });
    expect(viewAfterEvents(open, [ev('parcel.deposited', { compartmentId: 'A1' })], { jti: 'j', index: 3, total: 3, done: 3 })).toEqual({ kind: 'done', action: 'batch', door: 'A1', count: 3 });
  });

  it('a reopened door ends when it closes, with no pickup', () => {
    const v = viewAfterEvents({ kind: 'code' }, [ev('door.reopened', { compartmentId: 'A1' })]);
    expect(v).toEqual({ kind: 'open', door: 'A1', action: 'reopen' });
    expect(viewAfterEvents({ kind: 'closeDoor', door: 'A1', action: 'reopen' }, [ev('door.closed', { compartmentId: 'A1' })])).toEqual({ kind: 'done', action: 'reopen', door: 'A1' });
  });

  it('errors carry what the person needs: attempts left, time until the keypad unlocks', () => {
    expect(errorOf('UNKNOWN_CODE', { attemptsLeft: 3, unlockInSec: 0 })).toEqual({ code: 'wrongCode', attemptsLeft: 3 });
    expect(errorOf('UNKNOWN_CODE', { attemptsLeft: 0, unlockInSec: 30 })).toEqual({ code: 'keypadLocked', unlockInSec: 30 });
    expect(errorOf('KEYPAD_LOCKED', { attemptsLeft: 0, unlockInSec: 12 })).toEqual({ code: 'keypadLocked', unlockInSec: 12 });
    expect(errorOf('WRONG_LOCKER', { attemptsLeft: 5, unlockInSec: 0 })).toEqual({ code: 'otherLocker' });
  });

  it('idle: no timeout at the start or while a door is open; short ones for done and errors', () => {
    expect(idleTimeoutOf({ kind: 'idle' }, 60_000)).toBeNull();
    expect(idleTimeoutOf({ kind: 'open', door: 'A1', action: 'pickup' }, 60_000)).toBeNull();
    expect(idleTimeoutOf({ kind: 'code' }, 60_000)).toBe(60_000);
    expect(idleTimeoutOf({ kind: 'done', action: 'pickup' }, 60_000)).toBe(20_000);
  });
});
