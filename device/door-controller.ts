import type { Clock } from '../shared/clock.js';
import { step, type Effect, type Input, type Phase, type Session } from './compartment-machine.js';
import type { LockerHardware } from './hardware.js';
import type { DeviceStore, DeviceTx, NewEvent } from './store/device-store.js';

/**
 * How far a door session got, persisted with the compartment so a restart knows what happened: `accepted`
 * (grant used, lock not driven), `released` (lock driven), `open` (the door sensor saw it open).
 */
export type SessionStage = 'accepted' | 'released' | 'open';

export interface StoredSession extends Session {
  stage: SessionStage;
}

export function sessionRecord(session: Session, stage: SessionStage): string {
  return JSON.stringify({ ...session, stage } satisfies StoredSession);
}

function parseSession(raw: string | null): StoredSession | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as StoredSession;
  } catch {
    return null;
  }
}

export interface DoorContext {
  store: DeviceStore;
  hardware: LockerHardware;
  clock: Clock;
  /** Records events durably, with `alsoDo` in the same transaction. */
  record(events: NewEvent[], alsoDo?: (trx: DeviceTx) => Promise<void>): Promise<void>;
  /** Runs work one task at a time with the rest of the agent. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  background(p: Promise<unknown>): void;
  doorOpenTimeoutMs(): number;
  doorLeftOpenMs: number;
  display(line: string): void;
}

/**
 * Runs each compartment's state machine: drives the lock, follows the door sensor (the truth), records what
 * happened, and keeps the session in the store at every stage, so that after a power cut the compartment is
 * rebuilt from the store and the sensors without opening anything twice or losing a deposit.
 */
export class DoorController {
  readonly #c: DoorContext;
  readonly #phases = new Map<string, Phase>();
  readonly #timers = new Map<string, () => void>();

  constructor(context: DoorContext) {
    this.#c = context;
  }

  phase(id: string): Phase | undefined {
    return this.#phases.get(id);
  }

  isBusy(id: string): boolean {
    const p = this.#phases.get(id);
    return p !== undefined && p.kind !== 'closed';
  }

  /** Rebuilds every compartment from the store and the door sensors (at start, after any stop or crash). */
  async restore(): Promise<void> {
    const { store, hardware } = this.#c;
    for (const { id } of hardware.compartments()) {
      const rec = await store.compartment(id);
      const door = await hardware.readDoor(id);
      const session = parseSession(rec?.session ?? null);
      if (rec?.fault) {
        this.#phases.set(id, { kind: 'fault', reason: 'jam' });
      } else if (session && door === 'open') {
        this.#phases.set(id, { kind: 'open', session, leftOpenReported: false });
        if (session.stage !== 'open') await this.#doorOpened(id, session);
        this.#startTimer(id, 'leftOpen');
      } else if (session && session.stage === 'accepted') {
        // The lock was never confirmed driven: nothing opened. The grant stays used; the server is told.
        this.#phases.set(id, { kind: 'closed' });
        const failed: NewEvent[] = session.commandId ? [{ type: 'command.failed', commandId: session.commandId, reason: 'RESTART_BEFORE_UNLOCK', compartmentId: id }] : [];
        await this.#c.record([{ type: 'session.aborted', reason: 'RESTART_BEFORE_UNLOCK', ...about(id, session) }, ...failed], async (trx) => {
          await store.setSession(trx, id, null);
          if (session.commandId) await store.putCommand(trx, session.commandId, 'open', 'failed', this.#c.clock.now());
        });
      } else if (session) {
        // Released or open before the restart, closed now: the door cycle happened while the agent was down.
        this.#phases.set(id, { kind: 'closed' });
        await this.#complete(id, session, session.stage === 'open' ? 'RECOVERED_AFTER_RESTART' : 'DOOR_CYCLE_ASSUMED');
      } else if (door === 'open') {
        this.#phases.set(id, { kind: 'open', session: null, leftOpenReported: false });
        await this.#c.record([{ type: 'door.forced_open', reason: 'OPEN_AT_START', compartmentId: id }]);
        this.#startTimer(id, 'leftOpen');
      } else {
        this.#phases.set(id, { kind: 'closed' });
      }
    }
  }

  /** Starts a session whose acceptance is already durable (stored with stage `accepted`). */
  unlock(id: string, session: Session): Promise<void> {
    return this.#feed(id, { type: 'unlock', session });
  }

  /** A door sensor change from the hardware. */
  door(id: string, state: 'open' | 'closed'): void {
    this.#c.background(this.#c.serial(() => this.#feed(id, { type: 'door', state })));
  }

  stop(): void {
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  async #feed(id: string, input: Input): Promise<void> {
    const phase = this.#phases.get(id);
    if (!phase) return;
    const { phase: next, effects } = step(phase, input);
    this.#phases.set(id, next);
    const session = phase.kind === 'unlocking' || phase.kind === 'open' ? phase.session : input.type === 'unlock' ? input.session : null;
    for (const effect of effects) await this.#effect(id, effect, session);
  }

  async #effect(id: string, effect: Effect, session: Session | null): Promise<void> {
    const { store, hardware } = this.#c;
    switch (effect.type) {
      case 'pulse':
        // Stored before the lock moves: `accepted` after a restart then proves the lock was never driven, and
        // `released` means it was (or was about to be, a window of one hardware call).
        if (session) await store.setSession(store.db, id, sessionRecord(session, 'released'));
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
        if (effect.event === 'door.opened' && session) return this.#doorOpened(id, session);
        if (effect.event === 'lock.jammed') {
          const failed: NewEvent[] = session?.commandId ? [{ type: 'command.failed', commandId: session.commandId, reason: 'LOCK_JAMMED', compartmentId: id }] : [];
          return this.#c.record([{ type: 'lock.jammed', ...about(id, session) }, ...failed], async (trx) => {
            await store.setFault(trx, id, 'jam');
            await store.setSession(trx, id, null);
            if (session?.commandId) await store.putCommand(trx, session.commandId, 'open', 'failed', this.#c.clock.now());
          });
        }
        return this.#c.record([{ type: effect.event, ...about(id, session) }]);
      case 'completed':
        return this.#complete(id, effect.session);
      case 'refused':
        return this.#c.record([{ type: 'code.rejected', reason: effect.reason, ...about(id, session) }]);
    }
  }

  async #doorOpened(id: string, session: Session): Promise<void> {
    const { store } = this.#c;
    const done: NewEvent[] = session.commandId ? [{ type: 'command.succeeded', commandId: session.commandId, compartmentId: id }] : [];
    await this.#c.record([{ type: 'door.opened', ...about(id, session) }, ...done], async (trx) => {
      await store.setSession(trx, id, sessionRecord(session, 'open'));
      if (session.commandId) await store.putCommand(trx, session.commandId, 'open', 'succeeded', this.#c.clock.now());
    });
  }

  /** The door opened and closed for this session: the deposit or pickup happened, in one transaction. */
  async #complete(id: string, session: Session, reason?: string): Promise<void> {
    const { store } = this.#c;
    const base = { ...about(id, session), ...(reason ? { reason } : {}) };
    const events: NewEvent[] = [{ type: 'door.closed', ...about(id, session) }];
    // A remote open whose door was never seen open before a restart: the lock was driven, so it succeeded.
    const unreported = session.commandId && reason === 'DOOR_CYCLE_ASSUMED' ? session.commandId : undefined;
    if (unreported) events.push({ type: 'command.succeeded', commandId: unreported, compartmentId: id, ...(reason ? { reason } : {}) });
    let contents: string | null | undefined;
    if (session.action === 'deposit' && session.parcelId) {
      events.push({ type: 'parcel.deposited', ...base });
      contents = session.parcelId;
    } else if (session.action === 'pickup' || session.action === 'collect') {
      events.push({ type: 'parcel.picked_up', ...base });
      contents = null;
    }
    await this.#c.record(events, async (trx) => {
      if (contents !== undefined) await store.setContents(trx, id, contents);
      await store.setSession(trx, id, null);
      if (unreported) await store.putCommand(trx, unreported, 'open', 'succeeded', this.#c.clock.now());
    });
    this.#c.display('Thank you');
  }

  #startTimer(id: string, which: 'doorOpen' | 'leftOpen'): void {
    this.#timers.get(id)?.();
    const ms = which === 'doorOpen' ? this.#c.doorOpenTimeoutMs() : this.#c.doorLeftOpenMs;
    this.#timers.set(id, this.#c.clock.setTimeout(() => this.#c.background(this.#c.serial(() => this.#feed(id, { type: 'timeout' }))), ms));
  }
}

function about(compartmentId: string, session: Session | null): Omit<NewEvent, 'type'> {
  return {
    compartmentId,
    ...(session?.jti ? { jti: session.jti } : {}),
    ...(session?.parcelId ? { parcelId: session.parcelId } : {}),
    ...(session?.commandId ? { commandId: session.commandId } : {}),
  };
}
