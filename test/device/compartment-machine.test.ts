import { describe, expect, it } from 'vitest';
import { MAX_PULSES, step, type Input, type Phase } from '../../device/compartment-machine.js';

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
  });

  it('a lock that does not release is pulsed again, then reported jammed', () => {
    const inputs: Input[] = [{ type: 'unlock', session }];
    for (let i = 0; i < MAX_PULSES; i++) inputs.push({ type: 'timeout' });
    const r = run(inputs);
    expect(r.effects.filter((e) => e.type === 'pulse')).toHaveLength(MAX_PULSES);
    expect(emitted(r.effects)).toEqual(['lock.jammed']);
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
});
