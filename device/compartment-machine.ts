import type { GrantAction } from '../shared/messages.js';

/** Why the door is being opened: a grant (`jti`) or an operator's command (`commandId`). */
export interface Session {
  jti?: string;
  commandId?: string;
  /** What the door cycle does: `deposit` (a batch grant's parcel too), `pickup`, `collect`, `service`. */
  action: GrantAction;
  /** The parcel going in or out; null for a service opening. */
  parcelId: string | null;
  /** The courier said the parcel does not fit: closing the door records no deposit, the parcel moves on. */
  misfit?: boolean;
}

/** The state of one compartment, as far as the door and lock go. The door sensor is the truth. */
export type Phase =
  | { kind: 'closed' }
  | { kind: 'unlocking'; session: Session; pulses: number; maxPulses: number }
  | { kind: 'open'; session: Session | null; leftOpenReported: boolean }
  | { kind: 'fault'; reason: 'jam' };

export type Input =
  /** `maxPulses`: lock pulses before the lock counts as jammed (DEFAULT_MAX_PULSES when absent). */
  | { type: 'unlock'; session: Session; maxPulses?: number }
  | { type: 'door'; state: 'open' | 'closed' }
  | { type: 'timeout' }
  /** The courier pressed "does not fit" at the keypad. */
  | { type: 'doesNotFit' };

/** Why a deposit goes to another compartment (`COMPARTMENT_UNAVAILABLE`: faulty, out of service or taken already). */
export type RelocationReason = 'DOES_NOT_FIT' | 'LOCK_JAMMED' | 'COMPARTMENT_UNAVAILABLE';

export type Effect =
  | { type: 'pulse' }
  | { type: 'timer'; ms: 'doorOpen' | 'leftOpen' }
  | { type: 'cancelTimer' }
  | { type: 'emit'; event: 'door.opened' | 'door.closed' | 'door.forced_open' | 'door.left_open' | 'lock.jammed' }
  /** The door opened and closed again for this session: the deposit or pickup happened. */
  | { type: 'completed'; session: Session }
  | { type: 'refused'; reason: 'COMPARTMENT_BUSY' | 'COMPARTMENT_FAULT' }
  /** Keep the session (now marked misfit) with the compartment: a restart must not count it as a deposit. */
  | { type: 'misfit'; session: Session }
  /** The session's parcel goes into another compartment, with the same code (see device/relocation.ts). */
  | { type: 'relocate'; session: Session; reason: RelocationReason };

/** Lock pulses tried before a lock that does not release is called jammed, unless the server's config says. */
export const DEFAULT_MAX_PULSES = 2;

export interface Step {
  phase: Phase;
  effects: Effect[];
}

/** A deposit session that names its parcel: only such a parcel can go to another compartment. */
function movable(session: Session): boolean {
  return session.action === 'deposit' && session.parcelId !== null;
}

/** One step of a compartment's state machine. Pure; the agent carries out the effects in order. */
export function step(phase: Phase, input: Input): Step {
  switch (phase.kind) {
    case 'closed':
      if (input.type === 'unlock') {
        const maxPulses = Math.max(1, input.maxPulses ?? DEFAULT_MAX_PULSES);
        return { phase: { kind: 'unlocking', session: input.session, pulses: 1, maxPulses }, effects: [{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }] };
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
        if (phase.pulses < phase.maxPulses) {
          return { phase: { ...phase, pulses: phase.pulses + 1 }, effects: [{ type: 'pulse' }, { type: 'timer', ms: 'doorOpen' }] };
        }
        // The lock never released: the compartment is faulty; a deposit goes on in another one with the same code.
        const effects: Effect[] = [{ type: 'emit', event: 'lock.jammed' }];
        if (movable(phase.session)) effects.push({ type: 'relocate', session: phase.session, reason: 'LOCK_JAMMED' });
        return { phase: { kind: 'fault', reason: 'jam' }, effects };
      }
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
      // "Does not fit" before the door is even open means nothing yet.
      return { phase, effects: [] };

    case 'open':
      if (input.type === 'door' && input.state === 'closed') {
        const effects: Effect[] = [{ type: 'cancelTimer' }, { type: 'emit', event: 'door.closed' }];
        if (phase.session?.misfit) effects.push({ type: 'relocate', session: phase.session, reason: 'DOES_NOT_FIT' });
        else if (phase.session) effects.push({ type: 'completed', session: phase.session });
        return { phase: { kind: 'closed' }, effects };
      }
      if (input.type === 'timeout' && !phase.leftOpenReported) {
        return { phase: { ...phase, leftOpenReported: true }, effects: [{ type: 'emit', event: 'door.left_open' }] };
      }
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
      if (input.type === 'doesNotFit' && phase.session && movable(phase.session) && !phase.session.misfit) {
        const session = { ...phase.session, misfit: true };
        return { phase: { ...phase, session }, effects: [{ type: 'misfit', session }] };
      }
      return { phase, effects: [] };

    case 'fault':
      if (input.type === 'unlock') return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_FAULT' }] };
      if (input.type === 'door') return { phase, effects: [{ type: 'emit', event: input.state === 'open' ? 'door.opened' : 'door.closed' }] };
      return { phase, effects: [] };
  }
}
