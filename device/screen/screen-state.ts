/**
 * The locker screen's model: what the screen shows, as data the agent publishes (the page draws it and words it in
 * the chosen language; see device/screen/i18n/). Pure: the controller (screen-controller.ts) feeds it the events
 * the agent recorded and the refusals it decided, so the screen says exactly what the locker did.
 */
import type { AccessRefusal } from '../access-rules.js';
import type { DeviceEvent } from '../../shared/messages.js';

/** The grid the screen draws: every compartment, with its size and whether it sits low (reachable seated). */
export interface GridCell {
  id: string;
  size: string;
  low: boolean;
}

/** Where a courier's batch code stands: `index` of `total` is the parcel whose door is open (or comes next). */
export interface BatchProgress {
  jti: string;
  index: number;
  total: number;
  /** Parcels of the batch in already (or otherwise dealt with). */
  done: number;
  /** The next parcel to go in and its door, when one is left. */
  next?: { parcelId: string; door: string };
}

/** A refusal in words the screen can say: one code per message of the catalogues (`error.<code>`). */
export type ScreenError =
  | { code: 'wrongCode'; attemptsLeft: number }
  | { code: 'keypadLocked'; unlockInSec: number }
  | { code: 'codeUsed' }
  | { code: 'otherLocker' }
  | { code: 'expired' }
  | { code: 'notYetValid' }
  | { code: 'noCompartment' }
  | { code: 'outOfService' }
  | { code: 'batchDone' }
  | { code: 'notValid' };

/** What the person at the locker is doing with an open door. */
export type DoorAction = 'pickup' | 'deposit' | 'collect' | 'reopen';

export type ScreenView =
  | { kind: 'idle' }
  /** Typing a code on the on-screen keypad (the digits stay in the page and are never sent back). */
  | { kind: 'code' }
  /** The latch is released: pull door `door` open (`movedFrom`: the parcel went to this larger door instead). */
  | { kind: 'open'; door: string; action: DoorAction; batch?: BatchProgress; movedFrom?: string }
  /** The door is open: take the parcel (or put it in) and close the door. */
  | { kind: 'closeDoor'; door: string; action: DoorAction; batch?: BatchProgress }
  /** A batch parcel is in; the next one waits (open its door, skip it, or finish). */
  | { kind: 'batchNext'; batch: BatchProgress & { next: { parcelId: string; door: string } }; skipped: number }
  | { kind: 'done'; action: DoorAction | 'batch'; door?: string; count?: number }
  | { kind: 'error'; error: ScreenError };

export interface ScreenState {
  lockerId: string;
  view: ScreenView;
  language: string;
  languages: readonly string[];
  /** The locker has no connection to the server now (every flow still works). */
  offline: boolean;
  grid: readonly GridCell[];
  /** Milliseconds until the screen returns to the start by itself; null when it waits for a door or is at the start. */
  idleLeftMs: number | null;
  /** Grows with each change, so a page can drop stale updates. */
  version: number;
}

/** The screen's words for a refusal decided by the agent. `attemptsLeft`/`unlockInSec` come from the keypad lockout. */
export function errorOf(reason: AccessRefusal | 'NOT_READY' | 'OUTBOX_FULL' | string, lockout: { attemptsLeft: number; unlockInSec: number }): ScreenError {
  switch (reason) {
    case 'UNKNOWN_CODE':
    case 'MALFORMED':
      return lockout.unlockInSec > 0 ? { code: 'keypadLocked', unlockInSec: lockout.unlockInSec } : { code: 'wrongCode', attemptsLeft: lockout.attemptsLeft };
    case 'KEYPAD_LOCKED':
      return { code: 'keypadLocked', unlockInSec: Math.max(1, lockout.unlockInSec) };
    case 'ALREADY_USED':
    case 'ALREADY_DEPOSITED':
      return { code: 'codeUsed' };
    case 'WRONG_LOCKER':
      return { code: 'otherLocker' };
    case 'EXPIRED':
      return { code: 'expired' };
    case 'NOT_YET_VALID':
      return { code: 'notYetValid' };
    case 'NO_FREE_COMPARTMENT':
      return { code: 'noCompartment' };
    case 'BATCH_DONE':
      return { code: 'batchDone' };
    case 'OUT_OF_SERVICE':
    case 'COMPARTMENT_FAULT':
    case 'COMPARTMENT_BUSY':
    case 'UNKNOWN_COMPARTMENT':
    case 'NOT_READY':
    case 'OUTBOX_FULL':
      return { code: 'outOfService' };
    default:
      return { code: 'notValid' };
  }
}

/** How long a view stays before the screen goes back to the start by itself (null: it does not). */
export function idleTimeoutOf(view: ScreenView, idleMs: number): number | null {
  switch (view.kind) {
    case 'idle':
    case 'open':
    case 'closeDoor':
      return null;
    case 'done':
    case 'error':
      return Math.min(idleMs, 20_000);
    default:
      return idleMs;
  }
}

function actionOf(act: DeviceEvent['action']): DoorAction {
  return act === 'pickup' || act === 'collect' ? act : 'deposit';
}

/**
 * The view after events the agent recorded. `batch` is the progress of the batch code named by a `code.accepted`
 * or `parcel.deposited` in `events` (the controller reads it from the store); undefined when there is none.
 * Events about other doors (an operator's remote open, a forced door) leave the view as it is.
 */
export function viewAfterEvents(view: ScreenView, events: readonly DeviceEvent[], batch?: BatchProgress): ScreenView {
  let v = view;
  const door = v.kind === 'open' || v.kind === 'closeDoor' ? v.door : undefined;
  for (const e of events) {
    const current = v.kind === 'open' || v.kind === 'closeDoor' ? v : undefined;
    switch (e.type) {
      case 'code.accepted':
        if (!e.compartmentId) break;
        v = { kind: 'open', door: e.compartmentId, action: actionOf(e.action), ...(e.action === 'deposit_batch' && batch ? { batch } : {}) };
        break;
      case 'door.reopened':
        if (e.compartmentId) v = { kind: 'open', door: e.compartmentId, action: 'reopen' };
        break;
      case 'door.opened':
        if (current && current.door === e.compartmentId) v = { kind: 'closeDoor', door: current.door, action: current.action, ...(current.batch ? { batch: current.batch } : {}) };
        break;
      case 'parcel.moved':
        if (current && e.fromCompartmentId === current.door && e.compartmentId) {
          v = { kind: 'open', door: e.compartmentId, action: current.action, movedFrom: current.door, ...(current.batch ? { batch: current.batch } : {}) };
        }
        break;
      case 'parcel.deposited':
      case 'parcel.picked_up':
        if (current && current.door === e.compartmentId) {
          if (current.batch && batch?.next) v = { kind: 'batchNext', batch: { ...batch, next: batch.next }, skipped: 0 };
          else v = { kind: 'done', action: current.batch ? 'batch' : current.action, door: current.door, ...(current.batch ? { count: batch?.done ?? current.batch.total } : {}) };
        }
        break;
      case 'door.closed':
        // A reopened door's cycle is a service opening: its closing ends it (no pickup follows).
        if (current && current.door === e.compartmentId && current.action === 'reopen') v = { kind: 'done', action: 'reopen', door: current.door };
        break;
      case 'lock.jammed':
        // A deposit moves on (parcel.moved follows); anything else has no door to open.
        if (current && current.door === e.compartmentId && current.action !== 'deposit') v = { kind: 'error', error: { code: 'outOfService' } };
        break;
      case 'session.aborted':
        if (door !== undefined && e.compartmentId === door && e.reason === 'NO_COMPARTMENT_FOR_MOVE') v = { kind: 'error', error: { code: 'noCompartment' } };
        break;
      default:
        break;
    }
  }
  return v;
}
