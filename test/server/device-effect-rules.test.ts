import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type DeviceEvent } from '../../shared/messages.js';
import {
  alarmOf,
  commandOutcome,
  compartmentOutOfService,
  decideCompartmentMove,
  decideParcelMove,
  grantUseKind,
  grantUseVerdict,
  hasDomainEffect,
  boardAlarm,
  grantFreedBy,
  parcelMoveOf,
  refusedMove,
  type ParcelDecision,
  type ParcelFacts,
} from '../../server/parcels/device-effect-rules.js';
import { PARCEL_STATUSES, type ParcelStatus } from '../../shared/api/parcels.js';

const ev = (type: DeviceEvent['type'], extra: Partial<DeviceEvent> = {}): DeviceEvent => ({ seq: 7, id: 'e_7', bootId: 'b_1', at: 1_000, type, ...extra });
const parcel = (status: ParcelStatus, compartmentId = 'A1'): ParcelFacts => ({ id: 'p_1', status, compartmentId });

describe('which events the server acts on', () => {
  it('door cycles and wrong codes are only recorded; parcels, codes, commands and faults have effects', () => {
    const onlyRecorded = EVENT_TYPES.filter((t) => !hasDomainEffect(ev(t)));
    expect(onlyRecorded.sort()).toEqual(['code.rejected', 'door.closed', 'door.opened', 'door.reopened']);
  });

  it('a door cycle the locker only assumed (sensor doubt) is an effect too: it raises an alarm', () => {
    expect(hasDomainEffect(ev('door.closed', { reason: 'DOOR_CYCLE_ASSUMED' }))).toBe(true);
    expect(alarmOf(ev('door.closed', { reason: 'DOOR_CYCLE_ASSUMED' }))).toEqual({ kind: 'door_cycle_assumed', detail: { seq: 7, reason: 'DOOR_CYCLE_ASSUMED' } });
  });
});

describe('alarms from device events', () => {
  it('each fault event raises its own alarm kind, with the seq and the reason the locker gave', () => {
    const kinds = Object.fromEntries(EVENT_TYPES.flatMap((t) => (alarmOf(ev(t)) ? [[t, alarmOf(ev(t))?.kind]] : [])));
    expect(kinds).toEqual({
      'lock.jammed': 'lock_jam',
      'door.forced_open': 'forced_open',
      'door.left_open': 'door_left_open',
      'session.aborted': 'session_aborted',
      'keypad.locked': 'repeated_wrong_codes',
      'door.sensor_suspect': 'door_sensor_suspect',
    });
    expect(alarmOf(ev('lock.jammed', { compartmentId: 'A1', reason: 'MOTOR_STALL' }))?.detail).toEqual({ seq: 7, reason: 'MOTOR_STALL' });
    expect(alarmOf(ev('door.forced_open'))?.detail).toEqual({ seq: 7 });
  });

  it('a jammed lock takes its compartment out of service; a jam naming no compartment, or any other event, takes none', () => {
    expect(compartmentOutOfService(ev('lock.jammed', { compartmentId: 'B2' }))).toBe('B2');
    expect(compartmentOutOfService(ev('lock.jammed'))).toBeNull();
    expect(compartmentOutOfService(ev('door.forced_open', { compartmentId: 'B2' }))).toBeNull();
  });
});

describe('accepted codes', () => {
  it('a batch code is counted per parcel and stays live; any other code is used once; a code event without a grant id changes nothing', () => {
    expect(grantUseKind(ev('code.accepted', { jti: 'g1', action: 'deposit_batch' }))).toBe('batch');
    for (const action of ['deposit', 'pickup', 'collect', 'service'] as const) expect(grantUseKind(ev('code.accepted', { jti: 'g1', action }))).toBe('single');
    expect(grantUseKind(ev('code.accepted'))).toBeNull();
    expect(grantUseKind(ev('code.rejected', { jti: 'g1' }))).toBeNull();
  });

  it('a grant the server does not know is an anomaly; used a second time it is a reuse', () => {
    expect(grantUseVerdict(undefined)).toBe('unknown');
    expect(grantUseVerdict({ uses: 1 })).toBe('first');
    expect(grantUseVerdict({ uses: 2 })).toBe('reused');
    expect(grantUseVerdict({ uses: 9 })).toBe('reused');
  });
});

describe('parcel events', () => {
  it('a deposit is a deposit; a removal with the carrier’s collection code is a collection, with any other code (or none known) a pickup', () => {
    expect(parcelMoveOf(ev('parcel.deposited'), undefined)).toBe('deposit');
    expect(parcelMoveOf(ev('parcel.picked_up'), 'collect')).toBe('collect');
    expect(parcelMoveOf(ev('parcel.picked_up'), 'pickup')).toBe('pickup');
    expect(parcelMoveOf(ev('parcel.picked_up'), undefined)).toBe('pickup');
    expect(parcelMoveOf(ev('door.opened'), 'pickup')).toBeNull();
  });

  it('an event for a parcel this locker does not hold is an anomaly, whatever it reports', () => {
    for (const move of ['deposit', 'pickup', 'collect'] as const) expect(decideParcelMove(undefined, ev('parcel.deposited'), move)).toEqual({ kind: 'anomalous' });
  });

  /** Every status and every move: what happens, in one line each (`ignored`, or the new status with its flags). */
  it('follows the lifecycle for every status and move, inferring a deposit a pickup proves and reconciling a cancelled parcel the locker took', () => {
    const summary = (d: ParcelDecision): string => {
      if (d.kind === 'anomalous') return 'anomalous';
      const infer = d.inferredDeposit ? 'inferred deposit, ' : '';
      if (d.kind === 'ignored') return `${infer}ignored`;
      return `${infer}${d.reconcile ? 'reconciled, ' : ''}${d.next} (${d.compartment})`;
    };
    const table: Record<string, string> = {};
    for (const status of PARCEL_STATUSES) {
      for (const move of ['deposit', 'pickup', 'collect'] as const) {
        const type = move === 'deposit' ? 'parcel.deposited' : 'parcel.picked_up';
        table[`${status} + ${move}`] = summary(decideParcelMove(parcel(status), ev(type, { compartmentId: 'A1' }), move));
      }
    }
    expect(table).toEqual({
      'booked + deposit': 'in_locker (in)',
      'booked + pickup': 'inferred deposit, picked_up (out)',
      'booked + collect': 'ignored',
      'in_locker + deposit': 'ignored',
      'in_locker + pickup': 'picked_up (out)',
      'in_locker + collect': 'ignored',
      'picked_up + deposit': 'ignored',
      'picked_up + pickup': 'ignored',
      'picked_up + collect': 'ignored',
      'expired + deposit': 'ignored',
      'expired + pickup': 'picked_up (out)',
      'expired + collect': 'returned (out)',
      'returned + deposit': 'ignored',
      'returned + pickup': 'ignored',
      'returned + collect': 'ignored',
      'cancelled + deposit': 'reconciled, in_locker (in)',
      'cancelled + pickup': 'inferred deposit, reconciled, picked_up (out)',
      'cancelled + collect': 'ignored',
    });
  });

  it('a deposit is written as "deposited" with its compartment and reason, and goes out as parcel.deposited', () => {
    const d = decideParcelMove(parcel('booked'), ev('parcel.deposited', { compartmentId: 'A1', reason: 'BATCH' }), 'deposit');
    expect(d).toEqual({
      kind: 'moved',
      inferredDeposit: null,
      reconcile: false,
      next: 'in_locker',
      history: { type: 'deposited', status: 'in_locker', detail: { compartmentId: 'A1', reason: 'BATCH' } },
      webhook: 'parcel.deposited',
      detail: { compartmentId: 'A1', reason: 'BATCH' },
      compartment: 'in',
    });
  });

  it('a pickup that arrives before its deposit first records the deposit it proves, then the pickup', () => {
    const d = decideParcelMove(parcel('booked'), ev('parcel.picked_up', { compartmentId: 'A1' }), 'pickup');
    expect(d).toMatchObject({
      kind: 'moved',
      inferredDeposit: { type: 'deposited', status: 'in_locker', detail: { inferred: true } },
      history: { type: 'picked_up', status: 'picked_up', detail: { compartmentId: 'A1' } },
      webhook: 'parcel.picked_up',
    });
  });

  it('a cancelled parcel the locker took in anyway is reconciled: marked so in its history and webhook', () => {
    const d = decideParcelMove(parcel('cancelled'), ev('parcel.deposited', { compartmentId: 'A1' }), 'deposit');
    expect(d).toMatchObject({ kind: 'moved', reconcile: true, history: { type: 'deposited', detail: { compartmentId: 'A1', reconciled: true } }, detail: { reconciled: true } });
  });

  it('a collection returns the parcel to the sender (parcel.returned, "collected")', () => {
    expect(decideParcelMove(parcel('expired'), ev('parcel.picked_up', { compartmentId: 'A1' }), 'collect')).toMatchObject({
      kind: 'moved',
      next: 'returned',
      history: { type: 'collected', status: 'returned' },
      webhook: 'parcel.returned',
      compartment: 'out',
    });
  });

  it('an event that does not apply is kept in the history as "<type>.ignored", with the status it found', () => {
    expect(decideParcelMove(parcel('picked_up'), ev('parcel.picked_up'), 'pickup')).toEqual({
      kind: 'ignored',
      inferredDeposit: null,
      history: { type: 'parcel.picked_up.ignored', status: 'picked_up', detail: { from: 'picked_up' } },
    });
  });
});

describe('parcels moved to another compartment by the locker', () => {
  it('is followed when it names the parcel and both compartments, with the reason the locker gave', () => {
    expect(decideCompartmentMove(parcel('in_locker'), ev('parcel.moved', { parcelId: 'p_1', fromCompartmentId: 'A1', compartmentId: 'B1', reason: 'DOES_NOT_FIT' }))).toEqual({
      from: 'A1',
      to: 'B1',
      detail: { from: 'A1', to: 'B1', reason: 'DOES_NOT_FIT' },
    });
  });

  it('cannot be followed for a parcel the locker does not hold, or without both compartments', () => {
    expect(decideCompartmentMove(undefined, ev('parcel.moved', { fromCompartmentId: 'A1', compartmentId: 'B1' }))).toBeNull();
    expect(decideCompartmentMove(parcel('in_locker'), ev('parcel.moved', { compartmentId: 'B1' }))).toBeNull();
    expect(decideCompartmentMove(parcel('in_locker'), ev('parcel.moved', { fromCompartmentId: 'A1' }))).toBeNull();
  });

  it('a replay finds the parcel already there and does nothing; a parcel found elsewhere is recorded as ignored', () => {
    const move = { from: 'A1', to: 'B1', detail: { from: 'A1', to: 'B1' } };
    expect(refusedMove(parcel('in_locker', 'B1'), move)).toBeNull();
    expect(refusedMove(parcel('in_locker', 'C3'), move)).toEqual({ type: 'parcel.moved.ignored', status: 'in_locker', detail: { from: 'A1', to: 'B1', compartmentId: 'C3' } });
  });
});

describe('command results', () => {
  it('the device’s word is final: succeeded, failed or expired, with its reason as the result', () => {
    expect(commandOutcome(ev('command.succeeded', { commandId: 'c_1' }))).toEqual({ commandId: 'c_1', state: 'succeeded', result: null });
    expect(commandOutcome(ev('command.failed', { commandId: 'c_1', reason: 'LOCK_JAMMED' }))).toEqual({ commandId: 'c_1', state: 'failed', result: 'LOCK_JAMMED' });
    expect(commandOutcome(ev('command.expired', { commandId: 'c_1' }))).toEqual({ commandId: 'c_1', state: 'expired', result: null });
  });

  it('a result naming no command, or an event that is no result, changes no command', () => {
    expect(commandOutcome(ev('command.succeeded'))).toBeNull();
    expect(commandOutcome(ev('door.opened', { commandId: 'c_1' }))).toBeNull();
  });
});

describe('lock boards (issue 15)', () => {
  it('a board that does not answer raises its own hardware_fault alarm; its recovery resolves it; an event naming no board does nothing', () => {
    expect(boardAlarm(ev('hardware.fault', { board: 'unit 2', reason: 'NO_ANSWER' }))).toEqual({ action: 'raise', board: 'unit 2', detail: { board: 'unit 2', seq: 7, reason: 'NO_ANSWER' } });
    expect(boardAlarm(ev('hardware.recovered', { board: 'unit 2' }))).toEqual({ action: 'resolve', board: 'unit 2', detail: { board: 'unit 2', seq: 7 } });
    expect(boardAlarm(ev('hardware.fault'))).toBeNull();
    expect(boardAlarm(ev('lock.jammed', { board: 'unit 2' }))).toBeNull();
    expect(hasDomainEffect(ev('hardware.recovered', { board: 'unit 2' }))).toBe(true);
  });

  it('a session aborted because the lock could not be driven frees its grant; any other abort keeps it used', () => {
    expect(grantFreedBy(ev('session.aborted', { reason: 'HARDWARE_FAULT', jti: 'g1' }))).toBe('g1');
    expect(grantFreedBy(ev('session.aborted', { reason: 'RESTART_BEFORE_UNLOCK', jti: 'g1' }))).toBeNull();
    expect(grantFreedBy(ev('session.aborted', { reason: 'HARDWARE_FAULT' }))).toBeNull();
  });
});
