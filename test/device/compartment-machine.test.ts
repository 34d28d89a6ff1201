import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PULSES as MAX_PULSES, step, type Input, type Phase, type Session } from '../../device/compartment-machine.js';

const session = { jti: 'j1', action: 'deposit' as const, parcelId: 'p1' };
const run = (inputs: Input[], from: Phase = { kind: 'closed' }) => {
  let phase = from;
  const effects = [];
  for (const i of inputs) {
    const s = step(phase, i);
    phase = s.phase;
    effects.push(...s.effects);
  }
  return { phase, effects };
};
const emitted = (effects: ReturnType<typeof run>['effects']) => effects.flatMap((e) => (e.type === 'emit' ? [e.event] : []));

describe('compartment state machine', () => {
  it('a deposit counts only after the door opened and closed again', () => {
    const opened = run([{ type: 'unlock', session }, { type: 'door', state: 'open' }]);
    expect(opened.effects.some((e) => e.type === 'completed')).toBe(false);
    const closed = run([{ type: 'door', state: 'closed' }], opened.phase);
    expect(closed.effects).toContainEqual({ type: 'completed', session });
    expect(closed.phase).toEqual({ kind: 'closed' });
    expect(emitted([...opened.effects, ...closed.effects])).toEqual(['door.opened', 'door.closed']);
  });

  it('unlocking pulses the lock and waits for the door with a timer', () => {
    expect(step({ kind: 'closed' }, { type: 'unlock', session }).effects).toEqual([{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }]);
    expect(step({ kind: 'closed' }, { type: 'unlock', session }).phase).toEqual({ kind: 'unlocking', session, pulses: 1, maxPulses: MAX_PULSES });
  });

  it('a lock that does not release is pulsed again, then reported jammed', () => {
    const inputs: Input[] = [{ type: 'unlock', session }];
    for (let i = 0; i < MAX_PULSES; i++) inputs.push({ type: 'timeout' });
    const r = run(inputs);
    expect(r.effects.filter((e) => e.type === 'pulse')).toHaveLength(MAX_PULSES);
    expect(emitted(r.effects)).toEqual(['lock.jammed']);
    // A deposit goes on elsewhere with the same code.
    expect(r.effects.at(-1)).toEqual({ type: 'relocate', session, reason: 'LOCK_JAMMED' });
    expect(r.phase).toEqual({ kind: 'fault', reason: 'jam' });
    expect(step(r.phase, { type: 'unlock', session }).effects).toEqual([{ type: 'refused', reason: 'COMPARTMENT_FAULT' }]);
  });

  it('a door opened without an unlock is a forced-open alarm and completes nothing', () => {
    const r = run([{ type: 'door', state: 'open' }, { type: 'door', state: 'closed' }]);
    expect(emitted(r.effects)).toEqual(['door.forced_open', 'door.closed']);
    expect(r.effects.some((e) => e.type === 'completed')).toBe(false);
  });

  it('a door left open is reported once', () => {
    const r = run([{ type: 'unlock', session }, { type: 'door', state: 'open' }, { type: 'timeout' }, { type: 'timeout' }]);
    expect(emitted(r.effects)).toEqual(['door.opened', 'door.left_open']);
  });

  it('a second unlock while the door is in use is refused', () => {
    const busy = run([{ type: 'unlock', session }]).phase;
    expect(step(busy, { type: 'unlock', session }).effects).toEqual([{ type: 'refused', reason: 'COMPARTMENT_BUSY' }]);
    const open = run([{ type: 'door', state: 'open' }], busy).phase;
    expect(step(open, { type: 'unlock', session }).effects).toEqual([{ type: 'refused', reason: 'COMPARTMENT_BUSY' }]);
  });

  it('ignores inputs that mean nothing in a phase', () => {
    expect(step({ kind: 'closed' }, { type: 'door', state: 'closed' })).toEqual({ phase: { kind: 'closed' }, effects: [] });
    expect(step({ kind: 'closed' }, { type: 'timeout' })).toEqual({ phase: { kind: 'closed' }, effects: [] });
  });

  it('tries as many pulses as configured before a jam, at least one', () => {
    for (const maxPulses of [1, 3, 5]) {
      const inputs: Input[] = [{ type: 'unlock', session, maxPulses }];
      for (let i = 0; i < maxPulses; i++) inputs.push({ type: 'timeout' });
      const r = run(inputs);
      expect(r.effects.filter((e) => e.type === 'pulse')).toHaveLength(maxPulses);
      expect(r.phase.kind).toBe('fault');
      expect(run(inputs.slice(0, -1)).phase.kind).toBe('unlocking');
    }
    expect(step({ kind: 'closed' }, { type: 'unlock', session, maxPulses: 0 }).phase).toMatchObject({ maxPulses: 1 });
  });

  it('a jam on a pickup, a collection or a service opening moves nothing: the parcel stays', () => {
    const others: Session[] = [
      { jti: 'j2', action: 'pickup', parcelId: 'p1' },
      { jti: 'j3', action: 'collect', parcelId: 'p1' },
      { commandId: 'c1', action: 'service', parcelId: null },
      { jti: 'j4', action: 'deposit', parcelId: null },
    ];
    for (const s of others) {
      const r = run([{ type: 'unlock', session: s, maxPulses: 1 }, { type: 'timeout' }]);
      expect(r.effects).toEqual([{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }, { type: 'emit', event: 'lock.jammed' }]);
    }
  });

  it('"does not fit" with the deposit door open: closing it records no deposit and moves the parcel on', () => {
    const open = run([{ type: 'unlock', session }, { type: 'door', state: 'open' }]).phase;
    const pressed = step(open, { type: 'doesNotFit' });
    const misfit = { ...session, misfit: true };
    expect(pressed).toEqual({ phase: { kind: 'open', session: misfit, leftOpenReported: false }, effects: [{ type: 'misfit', session: misfit }] });
    // Pressed twice: nothing more.
    expect(step(pressed.phase, { type: 'doesNotFit' })).toEqual({ phase: pressed.phase, effects: [] });
    const closed = step(pressed.phase, { type: 'door', state: 'closed' });
    expect(closed.phase).toEqual({ kind: 'closed' });
    expect(closed.effects).toEqual([{ type: 'cancelTimer' }, { type: 'emit', event: 'door.closed' }, { type: 'relocate', session: misfit, reason: 'DOES_NOT_FIT' }]);
    expect(closed.effects.some((e) => e.type === 'completed')).toBe(false);
  });

  it('"does not fit" means nothing unless a deposit door is open', () => {
    const pickup: Session = { jti: 'j2', action: 'pickup', parcelId: 'p1' };
    const cases: Phase[] = [
      { kind: 'closed' },
      run([{ type: 'unlock', session }]).phase,
      run([{ type: 'unlock', session: pickup }, { type: 'door', state: 'open' }]).phase,
      run([{ type: 'door', state: 'open' }]).phase,
      { kind: 'fault', reason: 'jam' },
    ];
    for (const phase of cases) expect(step(phase, { type: 'doesNotFit' })).toEqual({ phase, effects: [] });
  });

  it('a faulty compartment refuses unlocks and reports its door moving, nothing else', () => {
    const fault: Phase = { kind: 'fault', reason: 'jam' };
    expect(step(fault, { type: 'door', state: 'open' })).toEqual({ phase: fault, effects: [{ type: 'emit', event: 'door.opened' }] });
    expect(step(fault, { type: 'door', state: 'closed' })).toEqual({ phase: fault, effects: [{ type: 'emit', event: 'door.closed' }] });
    expect(step(fault, { type: 'timeout' })).toEqual({ phase: fault, effects: [] });
  });

  it('an unlocking door ignores a close and an open door ignores a second open and timeouts after the alarm', () => {
    const unlocking = run([{ type: 'unlock', session }]).phase;
    expect(step(unlocking, { type: 'door', state: 'closed' })).toEqual({ phase: unlocking, effects: [] });
    const open = run([{ type: 'door', state: 'open' }], unlocking).phase;
    expect(step(open, { type: 'door', state: 'open' })).toEqual({ phase: open, effects: [] });
    const reported = run([{ type: 'timeout' }], open).phase;
    expect(step(reported, { type: 'timeout' })).toEqual({ phase: reported, effects: [] });
  });
});
