/** Lock pulses tried before a lock that does not release is called jammed, unless the server's config says. */
export const DEFAULT_MAX_PULSES = 2;
/** A deposit session that names its parcel: only such a parcel can go to another compartment. */
function movable(session) {
    return session.action === 'deposit' && session.parcelId !== null;
}
/** One step of a compartment's state machine. Pure; the agent carries out the effects in order. */
export function step(phase, input) {
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
                const effects = [{ type: 'emit', event: 'lock.jammed' }];
                if (movable(phase.session))
                    effects.push({ type: 'relocate', session: phase.session, reason: 'LOCK_JAMMED' });
                return { phase: { kind: 'fault', reason: 'jam' }, effects };
            }
            if (input.type === 'unlock')
                return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
            // "Does not fit" before the door is even open means nothing yet.
            return { phase, effects: [] };
        case 'open':
            if (input.type === 'door' && input.state === 'closed') {
                const effects = [{ type: 'cancelTimer' }, { type: 'emit', event: 'door.closed' }];
                if (phase.session?.misfit)
                    effects.push({ type: 'relocate', session: phase.session, reason: 'DOES_NOT_FIT' });
                else if (phase.session)
                    effects.push({ type: 'completed', session: phase.session });
                return { phase: { kind: 'closed' }, effects };
            }
            if (input.type === 'timeout' && !phase.leftOpenReported) {
                return { phase: { ...phase, leftOpenReported: true }, effects: [{ type: 'emit', event: 'door.left_open' }] };
            }
            if (input.type === 'unlock')
                return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_BUSY' }] };
            if (input.type === 'doesNotFit' && phase.session && movable(phase.session) && !phase.session.misfit) {
                const session = { ...phase.session, misfit: true };
                return { phase: { ...phase, session }, effects: [{ type: 'misfit', session }] };
            }
            return { phase, effects: [] };
        case 'fault':
            if (input.type === 'unlock')
                return { phase, effects: [{ type: 'refused', reason: 'COMPARTMENT_FAULT' }] };
            if (input.type === 'door')
                return { phase, effects: [{ type: 'emit', event: input.state === 'open' ? 'door.opened' : 'door.closed' }] };
            return { phase, effects: [] };
    }
}
//# sourceMappingURL=compartment-machine.js.map