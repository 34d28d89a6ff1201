/**
 * The screen's controller: follows the agent's decisions (the events it records, the refusals it makes) into the
 * screen model (screen-state.ts), and turns what the person does on the screen into the same calls the physical
 * keypad, scanner and "does not fit" key make (`agent.enterCode`, `agent.doesNotFit`). It decides nothing about
 * doors or codes itself: one source of truth, the agent. Idle: after inactivity the view returns to the start
 * and the language to the locker's default, so no code or parcel stays on the screen.
 */
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { DeviceEvent } from '../../shared/messages.js';
import type { CodeOutcome, LockerAgent } from '../agent.js';
import { batchItemKey } from '../batch.js';
import { isPending } from '../batch-entry.js';
import type { CompartmentInfo } from '../hardware.js';
import { DEFAULT_LOCKOUT_RULES, lockedFor, type LockoutRules } from '../keypad-lockout.js';
import type { DeviceStore } from '../store/device-store.js';
import { errorOf, idleTimeoutOf, viewAfterEvents, type BatchProgress, type GridCell, type ScreenState, type ScreenView } from './screen-state.js';

export const SCREEN_LANGUAGES = ['en', 'pl', 'de', 'zh'] as const;
export type ScreenLanguage = (typeof SCREEN_LANGUAGES)[number];

export const DEFAULT_IDLE_TIMEOUT_SEC = 60;

/** What the agent offers the screen (a LockerAgent; a narrower type keeps the controller honest about its needs). */
export type ScreenAgent = Pick<LockerAgent, 'lockerId' | 'enterCode' | 'doesNotFit' | 'onEvents' | 'now'> & { sync: { connected: boolean } };

export interface ScreenOptions {
  agent: ScreenAgent;
  store: DeviceStore;
  clock: Clock;
  compartments: readonly CompartmentInfo[];
  /** Compartments that sit low (reachable from a wheelchair), drawn as such. */
  lowCompartments?: readonly string[];
  /** The locker's default language (from its configuration). */
  language?: ScreenLanguage;
  idleTimeoutSec?: number;
  /** The agent's keypad lockout rules (to say how many attempts are left). */
  keypadLockout?: Partial<LockoutRules>;
  log?: Logger;
}

export type ScreenAction = 'start' | 'cancel' | 'doesNotFit' | 'next' | 'skip' | 'finish' | 'moreTime';

export class ScreenController {
  readonly #o: ScreenOptions;
  readonly #rules: LockoutRules;
  readonly #idleMs: number;
  readonly #grid: readonly GridCell[];
  readonly #listeners = new Set<(state: ScreenState) => void>();
  #view: ScreenView = { kind: 'idle' };
  #language: ScreenLanguage;
  #offline = false;
  #version = 0;
  #idleAt: number | null = null;
  #cancelIdle: (() => void) | undefined;
  #cancelPoll: (() => void) | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Parcels of the batch in use the courier skipped (kept until the screen goes back to the start). */
  #skipped = new Set<string>();
  #work: Promise<unknown> = Promise.resolve();

  constructor(options: ScreenOptions) {
    this.#o = options;
    this.#rules = { ...DEFAULT_LOCKOUT_RULES, ...options.keypadLockout };
    this.#idleMs = (options.idleTimeoutSec ?? DEFAULT_IDLE_TIMEOUT_SEC) * 1000;
    this.#language = options.language ?? 'en';
    const low = new Set(options.lowCompartments ?? []);
    this.#grid = options.compartments.map((c) => ({ id: c.id, size: c.size, low: low.has(c.id) }));
  }

  start(): void {
    this.#unsubscribe = this.#o.agent.onEvents((events) => this.#serial(() => this.#onEvents(events)));
    this.#offline = !this.#o.agent.sync.connected;
    const poll = () => {
      const offline = !this.#o.agent.sync.connected;
      if (offline !== this.#offline) {
        this.#offline = offline;
        this.#publish();
      }
      this.#cancelPoll = this.#o.clock.setTimeout(poll, 1000);
    };
    this.#cancelPoll = this.#o.clock.setTimeout(poll, 1000);
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#cancelPoll?.();
    this.#cancelIdle?.();
    this.#listeners.clear();
    await this.#work.catch(() => undefined);
  }

  get defaultLanguage(): ScreenLanguage {
    return this.#o.language ?? 'en';
  }

  state(): ScreenState {
    return {
      lockerId: this.#o.agent.lockerId,
      view: this.#view,
      language: this.#language,
      languages: SCREEN_LANGUAGES,
      offline: this.#offline,
      grid: this.#grid,
      idleLeftMs: this.#idleAt === null ? null : Math.max(0, this.#idleAt - this.#o.clock.now()),
      version: this.#version,
    };
  }

  /** Calls `listener` with the state now and after every change. Returns a function that stops it. */
  subscribe(listener: (state: ScreenState) => void): () => void {
    this.#listeners.add(listener);
    listener(this.state());
    return () => this.#listeners.delete(listener);
  }

  /** A code typed on the on-screen keypad: the physical keypad's path. */
  submitCode(code: string): Promise<CodeOutcome> {
    return this.#enter(code, 'keypad');
  }

  /** A QR code or label read by the scanner (or given by the page): the physical scanner's path. */
  scan(data: string): Promise<CodeOutcome> {
    return this.#enter(data, 'scanner');
  }

  setLanguage(language: ScreenLanguage): void {
    this.#language = language;
    // At the start too: a language chosen by someone who walked away goes back to the default.
    this.#rearm(this.#view.kind === 'idle' ? this.#idleMs : undefined);
    this.#publish();
  }

  /** A button on the screen. Resolves when the agent has done what it asks (a door opened, a view changed). */
  async act(action: ScreenAction): Promise<void> {
    switch (action) {
      case 'start': {
        const lockout = await this.#lockout();
        return this.#show(lockout.unlockInSec > 0 ? { kind: 'error', error: { code: 'keypadLocked', unlockInSec: lockout.unlockInSec } } : { kind: 'code' });
      }
      case 'cancel':
        return this.#toStart();
      case 'moreTime':
        // Twice the usual time from now (WCAG 2.2.1: the person may extend the limit).
        this.#rearm(2 * this.#idleMs);
        return this.#publish();
      case 'doesNotFit':
        await this.#o.agent.doesNotFit();
        return;
      case 'next': {
        const v = this.#view;
        if (v.kind === 'batchNext') await this.#enter(v.batch.next.parcelId, 'scanner');
        return;
      }
      case 'skip': {
        const v = this.#view;
        if (v.kind !== 'batchNext') return;
        this.#skipped.add(v.batch.next.parcelId);
        const progress = await this.#progress(v.batch.jti);
        return this.#show(progress.next ? { kind: 'batchNext', batch: { ...progress, next: progress.next }, skipped: v.skipped + 1 } : { kind: 'done', action: 'batch', count: progress.done });
      }
      case 'finish': {
        const v = this.#view;
        if (v.kind === 'batchNext') return this.#show({ kind: 'done', action: 'batch', count: v.batch.done });
        return this.#toStart();
      }
    }
  }

  async #enter(input: string, via: 'keypad' | 'scanner'): Promise<CodeOutcome> {
    const outcome = await this.#o.agent.enterCode(input, via);
    // Refusals that are recorded reach the screen with their event; these two never are.
    if ('refused' in outcome && (outcome.refused === 'NOT_READY' || outcome.refused === 'OUTBOX_FULL')) {
      await this.#serial(() => this.#show({ kind: 'error', error: { code: 'outOfService' } }));
    }
    // The screen's view follows the events of this entry before the caller hears back.
    await this.#serial(async () => undefined);
    return outcome;
  }

  async #onEvents(events: readonly DeviceEvent[]): Promise<void> {
    const rejected = events.find((e) => e.type === 'code.rejected' && e.via !== undefined);
    if (rejected) return this.#show({ kind: 'error', error: errorOf(rejected.reason ?? '', await this.#lockout()) });
    let batch: BatchProgress | undefined;
    const accepted = events.find((e) => e.type === 'code.accepted' && e.action === 'deposit_batch');
    const v = this.#view;
    if (accepted?.jti) batch = await this.#progress(accepted.jti, accepted.parcelId);
    else if ((v.kind === 'open' || v.kind === 'closeDoor') && v.batch && events.some((e) => e.type === 'parcel.deposited')) batch = await this.#progress(v.batch.jti);
    const next = viewAfterEvents(v, events, batch);
    if (next !== v) this.#show(next);
  }

  /** The batch code's parcels (in the grant's order) and where the courier is among them. */
  async #progress(jti: string, opened?: string): Promise<BatchProgress> {
    const { store } = this.#o;
    const rows = await store.db.selectFrom('grant_items').select(['parcel_id', 'compartment_id']).where('jti', '=', jti).orderBy(sql`rowid`).execute();
    let done = 0;
    let next: BatchProgress['next'];
    for (const r of rows) {
      const item = { p: r.parcel_id, c: r.compartment_id };
      if (!(await isPending(store, jti, item))) done++;
      else if (!next && !this.#skipped.has(item.p) && !(await store.isUsed(batchItemKey(jti, item.p)))) next = { parcelId: item.p, door: item.c };
    }
    // The parcel the view is about: the one whose door opened, else the next one; counted from 1 in the grant's order.
    const about = opened ?? next?.parcelId;
    const index = rows.findIndex((r) => r.parcel_id === about) + 1 || rows.length;
    return { jti, index, total: rows.length, done, ...(next ? { next } : {}) };
  }

  async #lockout(): Promise<{ attemptsLeft: number; unlockInSec: number }> {
    const state = await this.#o.store.keypadLockout();
    const ms = lockedFor(state, this.#o.agent.now(), this.#rules);
    return { attemptsLeft: Math.max(0, this.#rules.lockAfterFailures - state.failures), unlockInSec: Math.ceil(ms / 1000) };
  }

  #show(view: ScreenView): void {
    this.#view = view;
    this.#rearm();
    this.#publish();
  }

  #toStart(): void {
    this.#skipped.clear();
    this.#language = this.defaultLanguage;
    this.#show({ kind: 'idle' });
  }

  #rearm(ms: number | null = idleTimeoutOf(this.#view, this.#idleMs)): void {
    this.#cancelIdle?.();
    this.#cancelIdle = undefined;
    this.#idleAt = ms === null ? null : this.#o.clock.now() + ms;
    if (ms !== null) this.#cancelIdle = this.#o.clock.setTimeout(() => this.#toStart(), ms);
  }

  #publish(): void {
    this.#version++;
    const state = this.state();
    for (const l of this.#listeners) l(state);
  }

  #serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#work.then(fn, fn);
    this.#work = run.catch((err: unknown) => this.#o.log?.error({ err: String(err) }, 'screen update failed'));
    return run;
  }
}
