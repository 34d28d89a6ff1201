import type { GrantAction } from '../shared/messages.js';

/** Why the door is being opened: a grant (`jti`) or an operator's command (`commandId`). */
export interface Session {
  jti?: string;
  commandId?: string;
  action: GrantAction;
  /** The parcel going in or out; null for a service opening. */
  parcelId: string | null;
}

/** The state of one compartment, as far as the door and lock go. The door sensor is the truth. */
export type Phase =
  | { kind: 'closed' }
  | { kind: 'unlocking'; session: Session; pulses: number }
  | { kind: 'open'; session: Session | null; leftOpenReported: boolean }
  | { kind: 'fault'; reason: 'jam' };

export type Input =
  | { type: 'unlock'; session: Session }
  | { type: 'door'; state: 'open' | 'closed' }
  | { type: 'timeout' };

export type Effect =
  | { type: 'pulse' }
  | { type: 'timer'; ms: 'doorOpen' | 'leftOpen' }
  | { type: 'cancelTimer' }
  | { type: 'emit'; event: 'door.opened' | 'door.closed' | 'door.forced_open' | 'door.left_open' | 'lock.jammed' }
  /** The door opened and closed again for this session: the deposit or pickup happened. */
  | { type: 'completed'; session: Session }
  | { type: 'refused'; reason: 'COMPARTMENT_BUSY' | 'COMPARTMENT_FAULT' };

/** Lock pulses tried before a lock that does not release is called jammed. */
export const MAX_PULSES = 2;

export interface Step {
  phase: Phase;
  effects: Effect[];
}

/** One step of a compartment's state machine. Pure; the agent carries out the effects in order. */
export function step(phase: Phase, input: Input): Step {
  switch (phase.kind) {
    case 'closed':
      if (input.type === 'unlock') {
        return { phase: { kind: 'unlocking', session: input.session, pulses: 1 }, effects: [{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }] };
      }
      if (input.type === 'door' && input.state === 'open') {
        return { phase: { kind: 'open', session: null, leftOpenReported: false }, effects: [{ type: 'emit', event: 'door.forced_open' }, { type: 'timer', ms: 'leftOpen' }] };
      }
      return { phase, effects: [] };

    case 'unlocking':
      if (input.type === 'door' && input.state === 'open') {
        return {
          phase: { kind: 'open', session: phase.session, leftOpenReported: false },
          effects: [{ type: 'cancelTimer' }, { type: 'emit', event: 'door.opened' }, { type: 'timer', ms: 'leftOpen' }],
        };
      }
      if (input.type === 'timeout') {
        if (phase.pulses < MAX_PULSES) {
          return { phase: { ...phase, pulses: phase.pulses + 1 }, effects: [{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }] };
        }
        return { phase: { kind: 'fault', reason: 'jam' }, effects: [{ type: 'emit', event: 'lock.jammed' }] };
      }
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
      return { phase, effects: [] };

    case 'open':
      if (input.type === 'door' && input.state === 'closed') {
        const effects: Effect[] = [{ type: 'cancelTimer' }, { type: 'emit', event: 'door.closed' }];
        if (phase.session) effects.push({ type: 'completed', session: phase.session });
        return { phase: { kind: 'closed' }, effects };
      }
      if (input.type === 'timeout' && !phase.leftOpenReported) {
        return { phase: { ...phase, leftOpenReported: true }, effects: [{ type: 'emit', event: 'door.left_open' }] };
      }
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
      return { phase, effects: [] };

    case 'fault':
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_FAULT' }] };
      if (input.type === 'door') return { phase, effects: [{ type: 'emit', event: input.state === 'open' ? 'door.opened' : 'door.closed' }] };
      return { phase, effects: [] };
  }
}
