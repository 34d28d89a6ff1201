import { step } from './compartment-machine.js';
import { pickRelocation } from './relocation.js';
export function sessionRecord(session, stage) {
    return JSON.stringify({ ...session, stage });
}
function parseSession(raw) {
    if (!raw)
        return null;
    try {
        return JSON.parse(raw);
    }
    catch {
        return null;
    }
}
/**
 * Runs each compartment's state machine: drives the lock, follows the door sensor (the truth), records what
 * happened, and keeps the session in the store at every stage, so that after a power cut the compartment is
 * rebuilt from the store and the sensors without opening anything twice or losing a deposit.
 */
export class DoorController {
    #c;
    #phases = new Map();
    #timers = new Map();
    constructor(context) {
        this.#c = context;
    }
    phase(id) {
        return this.#phases.get(id);
    }
    isBusy(id) {
        const p = this.#phases.get(id);
        return p !== undefined && p.kind !== 'closed';
    }
    /** Rebuilds every compartment from the store and the door sensors (at start, after any stop or crash). */
    async restore() {
        const { store, hardware } = this.#c;
        // Moves wait until every compartment has its phase: the new compartment must be known before it is unlocked.
        const moves = [];
        for (const { id } of hardware.compartments()) {
            const rec = await store.compartment(id);
            const door = await hardware.readDoor(id);
            const session = parseSession(rec?.session ?? null);
            if (rec?.fault) {
                this.#phases.set(id, { kind: 'fault', reason: 'jam' });
            }
            else if (session && door === 'open') {
                this.#phases.set(id, { kind: 'open', session, leftOpenReported: false });
                if (session.stage !== 'open')
                    await this.#doorOpened(id, session);
                this.#startTimer(id, 'leftOpen');
            }
            else if (session?.misfit) {
                // The courier said it did not fit and the door closed while the agent was down: nothing went in here.
                this.#phases.set(id, { kind: 'closed' });
                await this.#c.record([{ type: 'door.closed', ...about(id, session) }]);
                moves.push({ id, session });
            }
            else if (session && session.stage === 'accepted') {
                // The lock was never confirmed driven: nothing opened. The grant stays used; the server is told.
                this.#phases.set(id, { kind: 'closed' });
                const failed = session.commandId ? [{ type: 'command.failed', commandId: session.commandId, reason: 'RESTART_BEFORE_UNLOCK', compartmentId: id }] : [];
                await this.#c.record([{ type: 'session.aborted', reason: 'RESTART_BEFORE_UNLOCK', ...about(id, session) }, ...failed], async (trx) => {
                    await store.setSession(trx, id, null);
                    if (session.commandId)
                        await store.putCommand(trx, session.commandId, 'open', 'failed', this.#c.clock.now());
                });
            }
            else if (session) {
                // Released or open before the restart, closed now: the door cycle happened while the agent was down.
                this.#phases.set(id, { kind: 'closed' });
                await this.#complete(id, session, session.stage === 'open' ? 'RECOVERED_AFTER_RESTART' : 'DOOR_CYCLE_ASSUMED');
            }
            else if (door === 'open') {
                this.#phases.set(id, { kind: 'open', session: null, leftOpenReported: false });
                await this.#c.record([{ type: 'door.forced_open', reason: 'OPEN_AT_START', compartmentId: id }]);
                this.#startTimer(id, 'leftOpen');
            }
            else {
                this.#phases.set(id, { kind: 'closed' });
            }
        }
        for (const m of moves)
            await this.#relocate(m.id, m.session, 'DOES_NOT_FIT');
    }
    /** Starts a session whose acceptance is already durable (stored with stage `accepted`). */
    unlock(id, session) {
        return this.#feed(id, { type: 'unlock', session, maxPulses: this.#c.maxPulses() });
    }
    /**
     * The courier pressed "does not fit": applies to the open door of a deposit (the most recently opened one when
     * several are). Returns that compartment, or null when no deposit door is open. Run inside `serial`.
     */
    async doesNotFit() {
        let target = null;
        for (const [id, p] of this.#phases) {
            if (p.kind === 'open' && p.session?.action === 'deposit' && p.session.parcelId && !p.session.misfit)
                target = id;
        }
        if (target)
            await this.#feed(target, { type: 'doesNotFit' });
        return target;
    }
    /** A door sensor change from the hardware. */
    door(id, state) {
        this.#c.background(this.#c.serial(() => this.#feed(id, { type: 'door', state })));
    }
    stop() {
        for (const cancel of this.#timers.values())
            cancel();
        this.#timers.clear();
    }
    async #feed(id, input) {
        const phase = this.#phases.get(id);
        if (!phase)
            return;
        const { phase: next, effects } = step(phase, input);
        this.#phases.set(id, next);
        const session = phase.kind === 'unlocking' || phase.kind === 'open' ? phase.session : input.type === 'unlock' ? input.session : null;
        for (const effect of effects)
            await this.#effect(id, effect, session);
    }
    async #effect(id, effect, session) {
        const { store, hardware } = this.#c;
        switch (effect.type) {
            case 'pulse':
                // Stored before the lock moves: `accepted` after a restart then proves the lock was never driven, and
                // `released` means it was (or was about to be, a window of one hardware call).
                if (session)
                    await store.setSession(store.db, id, sessionRecord(session, 'released'));
                await hardware.pulseLock(id);
                return;
            case 'timer':
                this.#startTimer(id, effect.ms);
                return;
            case 'cancelTimer':
                this.#timers.get(id)?.();
                this.#timers.delete(id);
                return;
            case 'emit':
                if (effect.event === 'door.opened' && session)
                    return this.#doorOpened(id, session);
                if (effect.event === 'lock.jammed') {
                    const failed = session?.commandId ? [{ type: 'command.failed', commandId: session.commandId, reason: 'LOCK_JAMMED', compartmentId: id }] : [];
                    return this.#c.record([{ type: 'lock.jammed', ...about(id, session) }, ...failed], async (trx) => {
                        await store.setFault(trx, id, 'jam');
                        await store.setSession(trx, id, null);
                        if (session?.commandId)
                            await store.putCommand(trx, session.commandId, 'open', 'failed', this.#c.clock.now());
                    });
                }
                // A door closing on a session that completes is recorded with the deposit or pickup, in one transaction.
                if (effect.event === 'door.closed' && session && !session.misfit)
                    return;
                return this.#c.record([{ type: effect.event, ...about(id, session) }]);
            case 'completed':
                return this.#complete(id, effect.session);
            case 'misfit':
                // Kept with the compartment: a restart then knows that closing this door put nothing in.
                await store.setSession(store.db, id, sessionRecord(effect.session, 'open'));
                this.#c.display('Close the door; a larger compartment will open');
                return;
            case 'relocate':
                return this.#relocate(id, effect.session, effect.reason);
            case 'refused':
                return this.#c.record([{ type: 'code.rejected', reason: effect.reason, ...about(id, session) }]);
        }
    }
    async #doorOpened(id, session) {
        const { store } = this.#c;
        const done = session.commandId ? [{ type: 'command.succeeded', commandId: session.commandId, compartmentId: id }] : [];
        await this.#c.record([{ type: 'door.opened', ...about(id, session) }, ...done], async (trx) => {
            await store.setSession(trx, id, sessionRecord(session, 'open'));
            if (session.commandId)
                await store.putCommand(trx, session.commandId, 'open', 'succeeded', this.#c.clock.now());
        });
    }
    /** The door opened and closed for this session: the deposit or pickup happened, in one transaction. */
    async #complete(id, session, reason) {
        const { store } = this.#c;
        const base = { ...about(id, session), ...(reason ? { reason } : {}) };
        const events = [{ type: 'door.closed', ...about(id, session) }];
        // A remote open whose door was never seen open before a restart: the lock was driven, so it succeeded.
        const unreported = session.commandId && reason === 'DOOR_CYCLE_ASSUMED' ? session.commandId : undefined;
        if (unreported)
            events.push({ type: 'command.succeeded', commandId: unreported, compartmentId: id, ...(reason ? { reason } : {}) });
        let contents;
        if (session.action === 'deposit' && session.parcelId) {
            events.push({ type: 'parcel.deposited', ...base });
            contents = session.parcelId;
        }
        else if (session.action === 'pickup' || session.action === 'collect') {
            events.push({ type: 'parcel.picked_up', ...base });
            contents = null;
        }
        await this.#c.record(events, async (trx) => {
            if (contents !== undefined)
                await store.setContents(trx, id, contents);
            await store.setSession(trx, id, null);
            if (unreported)
                await store.putCommand(trx, unreported, 'open', 'succeeded', this.#c.clock.now());
        });
        this.#c.display('Thank you');
    }
    /**
     * Puts the session's parcel into another compartment (see relocation.ts) and opens it for the same code: the
     * move is recorded (`parcel.moved`) with the new session in one transaction, so a code naming the old
     * compartment follows the parcel. With no compartment left the session ends (`session.aborted`, an alarm).
     */
    async #relocate(id, session, reason) {
        const { store } = this.#c;
        const parcelId = session.parcelId;
        const from = await store.compartment(id);
        if (!parcelId || !from)
            return;
        const to = await this.pickFor(parcelId, { id, size: from.size }, reason);
        const moved = { ...session };
        delete moved.misfit;
        if (!to) {
            await this.#c.record([{ type: 'session.aborted', reason: 'NO_COMPARTMENT_FOR_MOVE', ...about(id, session) }], (trx) => store.setSession(trx, id, null));
            this.#c.display('No other compartment is free: please keep the parcel');
            return;
        }
        const at = this.#c.clock.now();
        await this.#c.record([{ type: 'parcel.moved', ...about(to, moved), fromCompartmentId: id, reason }], async (trx) => {
            await store.recordMove(trx, parcelId, id, to, at);
            await store.setSession(trx, id, null);
            await store.setSession(trx, to, sessionRecord(moved, 'accepted'));
        });
        this.#c.display(`Door ${to} is open`);
        await this.unlock(to, moved);
    }
    /** The compartment a parcel's deposit would go to instead of `from`, or null when none is free. */
    async pickFor(parcelId, from, reason) {
        const { store } = this.#c;
        const all = await store.compartments();
        const held = new Set(all.flatMap((c) => (c.parcel_id ? [c.parcel_id] : [])));
        const reserved = new Set((await store.reservations(Math.floor(this.#c.now() / 1000)))
            .filter((r) => r.parcelId !== parcelId && !held.has(r.parcelId))
            .map((r) => r.compartmentId));
        const candidates = all.map((c) => ({
            id: c.id,
            size: c.size,
            inService: c.in_service === 1,
            fault: c.fault,
            parcelId: c.parcel_id,
            busy: this.isBusy(c.id),
            reserved: reserved.has(c.id),
        }));
        return pickRelocation(from, candidates, reason);
    }
    #startTimer(id, which) {
        this.#timers.get(id)?.();
        const ms = which === 'doorOpen' ? this.#c.doorOpenTimeoutMs() : this.#c.doorLeftOpenMs;
        this.#timers.set(id, this.#c.clock.setTimeout(() => this.#c.background(this.#c.serial(() => this.#feed(id, { type: 'timeout' }))), ms));
    }
}
function about(compartmentId, session) {
    return {
        compartmentId,
        ...(session?.jti ? { jti: session.jti } : {}),
        ...(session?.parcelId ? { parcelId: session.parcelId } : {}),
        ...(session?.commandId ? { commandId: session.commandId } : {}),
    };
}
//# sourceMappingURL=door-controller.js.map