import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GrantVerifier, checkClaims, type GrantClaims } from '../shared/grants.js';
import type { DeviceConfig, DeviceEvent, DiagnosticsCommandMessage, EventType, StateMessage } from '../shared/messages.js';
import { isPinFormat, pinHash } from '../shared/pin.js';
import { decideAccess, type AccessRefusal } from './access-rules.js';
import { enterBatch } from './batch-entry.js';
import { DEFAULT_MAX_PULSES } from './compartment-machine.js';
import { runCommand } from './commands.js';
import { silentLogger } from './device-logger.js';
import { DeviceTime } from './device-time.js';
import { DoorController, sessionRecord } from './door-controller.js';
import { LOCK_NOT_DRIVEN, faultEvent } from './hardware-faults.js';
import { DEFAULT_LOCKOUT_RULES, NO_FAILURES, isClear, lockedFor, recordFailure, type LockoutRules, type LockoutState } from './keypad-lockout.js';
import { RecentPickups, decideReopen } from './reopen-rules.js';
import type { DeviceTx, NewEvent } from './store/device-store.js';
import { applyDesiredState } from './sync/apply-state.js';
import { SyncClient } from './sync/sync-client.js';
// Firmware updates and remote diagnostics (issue 19):
import { Updater } from './update/updater.js';
import { runDiagnostics } from './diagnostics.js';

import type { AgentOptions, CodeOutcome } from './agent-options.js';
export type { AgentOptions, CodeOutcome } from './agent-options.js';

const DEFAULT_OUTBOX_LIMIT = 50_000;

/** After a batch code opened a door, scanning a parcel label of that batch opens its door for this long. */
const BATCH_LABEL_WINDOW_MS = 5 * 60_000;

/**
 * The locker agent: decides locally whether a typed PIN or scanned QR opens a door (never waiting for the
 * network), records the grant as used before it drives the lock, follows the door sensors, runs operators'
 * commands once, and keeps the server informed through the durable outbox.
 */
export class LockerAgent {
  readonly bootId = randomUUID().replaceAll('-', '');
  readonly sync: SyncClient;
  readonly doors: DoorController;
  readonly #o: AgentOptions;
  readonly #lockout: LockoutRules;
  readonly #log: Logger;
  #time: DeviceTime;
  #verifier = new GrantVerifier([]);
  #config: DeviceConfig | undefined;
  /** The batch code last used here, for label scans (in memory: after a restart the courier types it again). */
  #batch: { claims: GrantClaims; until: number } | undefined;
  /** Code checks, door inputs, state and commands run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void)[] = [];
  /** Every event recorded by this agent (for the simulator's checker). */
  onRecorded: ((events: readonly { type: EventType; seq: number; jti?: string }[]) => void) | undefined;
  // Screen: listeners of every recorded event (the screen follows the agent's decisions), recent pickups for reopen.
  readonly #eventListeners = new Set<(events: readonly DeviceEvent[]) => void>();
  readonly #recentPickups: RecentPickups;
  /** Firmware updates (issue 19): present when the agent was given update settings. */
  readonly updater: Updater | undefined;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger();
    this.#lockout = { ...DEFAULT_LOCKOUT_RULES, ...options.keypadLockout };
    this.#time = new DeviceTime(options.clock);
    this.#recentPickups = new RecentPickups((options.reopenWindowSec ?? 0) * 1000);
    this.sync = new SyncClient({
      lockerId: options.lockerId,
      mqttUrl: options.mqttUrl,
      password: options.password,
      bootId: this.bootId,
      clock: options.clock,
      store: options.store,
      random: options.random ?? Math.random,
      heartbeatMs: () => this.#config?.heartbeatMs ?? 30_000,
      telemetry: () => this.#telemetry(),
      ...(options.startJitterMs ? { startJitterMs: options.startJitterMs } : {}),
      ...(options.ackTimeoutMs ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
      ...(options.maxAckTimeoutMs ? { maxAckTimeoutMs: options.maxAckTimeoutMs } : {}),
      log: this.#log,
    });
    this.doors = new DoorController({
      store: options.store,
      hardware: options.hardware,
      clock: options.clock,
      record: (events, alsoDo) => this.#record(events, alsoDo),
      serial: (fn) => this.#serial(fn),
      background: (p) => this.#background(p),
      doorOpenTimeoutMs: () => this.#config?.doorOpenTimeoutMs ?? 30_000,
      maxPulses: () => this.#config?.unlockAttempts ?? DEFAULT_MAX_PULSES,
      now: () => this.now(),
      doorLeftOpenMs: options.doorLeftOpenMs ?? 120_000,
      display: (line) => options.hardware.display(line),
      lockFailed: (compartmentId, err) => this.#log.warn({ compartmentId, err: String(err) }, 'lock could not be driven; session aborted, code still valid'),
    });
    this.updater = options.update
      ? new Updater(options.update, {
          clock: options.clock,
          log: this.#log,
          whenIdle: (fn) => this.#serial(async () => ((await this.#idle()) ? (await fn(), true) : false)),
        })
      : undefined;
  }

  // Firmware updates and remote diagnostics (issue 19).
  /** The hardware's readings, with the version the update pointer names (the agent knows what runs better than the board). */
  async #telemetry() {
    const read = await (this.#o.hardware.telemetry?.() ?? Promise.resolve(undefined));
    const version = this.updater?.version;
    return version ? { ...read, firmwareVersion: version } : read;
  }

  /** No door open, no session running, no batch code in use: the only time an update may switch versions. */
  async #idle(): Promise<boolean> {
    if (this.#batch && this.#batch.until > this.now()) return false;
    for (const { id } of this.#o.hardware.compartments()) {
      if (this.doors.isBusy(id) || (await this.#o.hardware.readDoor(id)) !== 'closed') return false;
    }
    return true;
  }

  #runDiagnostics(cmd: DiagnosticsCommandMessage): void {
    const o = this.#o;
    this.#log.info({ commandId: cmd.id, logLines: cmd.logLines }, 'diagnostics requested');
    const ctx = {
      bootId: this.bootId,
      store: o.store,
      hardware: o.hardware,
      isBusy: (id: string) => this.doors.isBusy(id),
      connected: () => this.sync.connected,
      now: () => this.now(),
      firmwareVersion: () => this.updater?.version ?? null,
      logTail: () => o.logTail?.() ?? [],
      apiUrl: o.update?.apiUrl,
    };
    this.#background(runDiagnostics(ctx, cmd));
  }

  get lockerId(): string {
    return this.#o.lockerId;
  }

  /** True once the locker holds a configuration from the server (it can check codes). */
  get ready(): boolean {
    return this.#config !== undefined;
  }

  async start(): Promise<void> {
    const { store, hardware } = this.#o;
    await store.ensureCompartments(hardware.compartments());
    this.#time = new DeviceTime(this.#o.clock, DeviceTime.parse(await store.getMeta('time')));
    this.#config = await store.config();
    this.#verifier = new GrantVerifier(await store.keys());
    await this.#serial(() => this.doors.restore());
    this.#unsubscribe.push(
      hardware.onKeypad((code) => this.#background(this.enterCode(code, 'keypad'))),
      hardware.onScan((data) => this.#background(this.enterCode(data, 'scanner'))),
      hardware.onDoor((id, state) => this.doors.door(id, state)),
    );
    if (hardware.onDoesNotFit) this.#unsubscribe.push(hardware.onDoesNotFit(() => this.#background(this.doesNotFit())));
    // lock boards (issue 15): faults the hardware finds by itself become events (and the server's alarms)
    if (hardware.onFault) this.#unsubscribe.push(hardware.onFault((fault) => this.#background(this.#serial(() => this.#record([faultEvent(fault)])))));
    hardware.display(this.#config ? 'Enter your code' : 'Starting…');
    await this.updater?.start();
    this.sync.start({
      onState: (msg) => this.#serial(() => this.#applyState(msg)),
      onServerTime: (t) => this.#time.learn(t),
      onCommand: async (cmd) => {
        // Updates and diagnostics run beside the queue (an update waits for idle doors); the rest is the door's business.
        if (cmd.type === 'update') return this.updater ? this.updater.handle(cmd, this.now()) : this.#log.warn({ commandId: cmd.id }, 'update refused: this agent takes no updates');
        if (cmd.type === 'diagnostics') return this.#runDiagnostics(cmd);
        return this.#serial(() => runCommand({ store, doors: this.doors, now: () => this.now(), record: (e, a) => this.#record(e, a) }, cmd));
      },
    });
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.updater?.stop();
    await this.sync.stop();
    // Let queued work finish before the door timers go, so none is started after the stop.
    await this.#queue.catch(() => undefined);
    this.doors.stop();
  }

  /** Best estimate of the true time: the device clock corrected by the server's, never running backwards. */
  now(): number {
    return this.#time.now();
  }

  /** A code from the keypad (a PIN) or the scanner (a QR grant). Resolves with what the locker did. */
  enterCode(input: string, via: 'keypad' | 'scanner'): Promise<CodeOutcome> {
    return this.#serial(() => this.#checkCode(input, via));
  }

  /** The courier's "does not fit" key: the open deposit door's parcel goes to a larger compartment. */
  doesNotFit(): Promise<string | null> {
    return this.#serial(() => this.doors.doesNotFit());
  }

  /** Calls `listener` with every batch of events the agent records (the screen follows them). Returns a function that stops it. */
  onEvents(listener: (events: readonly DeviceEvent[]) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /**
   * A used pickup code within the reopen window (device/reopen-rules.ts): the door opens once more as a service
   * opening (`door.reopened`, never a second pickup). Undefined when the rule says no.
   */
  async #reopen(claims: GrantClaims, via: 'keypad' | 'scanner'): Promise<CodeOutcome | undefined> {
    const { store, hardware } = this.#o;
    const pickup = this.#recentPickups.get(claims.jti);
    const c = pickup && (await store.compartment(pickup.compartmentId));
    const compartment = c && { parcelId: c.parcel_id, busy: this.doors.isBusy(c.id), fault: c.fault };
    if (!pickup || decideReopen(pickup, { now: this.now(), windowMs: this.#recentPickups.windowMs, compartment })) return undefined;
    this.#recentPickups.markReopened(claims.jti);
    const session = { action: 'service' as const, parcelId: null };
    const parcel = pickup.parcelId ? { parcelId: pickup.parcelId } : {};
    await this.#record([{ type: 'door.reopened', jti: claims.jti, compartmentId: pickup.compartmentId, via, ...parcel }], (trx) =>
      store.setSession(trx, pickup.compartmentId, sessionRecord(session, 'accepted')),
    );
    hardware.display(`Door ${pickup.compartmentId} is open again`);
    await this.doors.unlock(pickup.compartmentId, session);
    return { opened: pickup.compartmentId, reopened: true };
  }

  /** Work started by hardware or timers: a failure is logged, never an unhandled rejection. */
  #background(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.#log.error({ err: String(err) }, 'agent task failed'));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #checkCode(input: string, via: 'keypad' | 'scanner'): Promise<CodeOutcome> {
    const { store, hardware } = this.#o;
    const config = this.#config;
    if (!config) {
      hardware.display('Not ready, try again shortly');
      return { refused: 'NOT_READY' };
    }
    if ((await store.outboxSize()) >= (this.#o.outboxLimit ?? DEFAULT_OUTBOX_LIMIT)) {
      // Not recorded: the outbox is full. Doors and alarms are still recorded; codes wait for the network.
      hardware.display('Temporarily out of service');
      return { refused: 'OUTBOX_FULL' };
    }
    const lockout = await store.keypadLockout();
    let token: string | undefined;
    if (via === 'keypad') {
      // A locked keypad does not even look at the input: a guess made now tells the guesser nothing.
      const at = this.now();
      const lockedMs = lockedFor(lockout, at, this.#lockout);
      if (lockedMs > 0) return this.#refuse('KEYPAD_LOCKED', via, undefined, lockedLine(lockedMs));
      if (!isPinFormat(input, config.pinLength, config.pinAlphabet)) return this.#keypadFailure('MALFORMED', lockout, at);
      token = (await store.grantByPinHash(pinHash(Buffer.from(config.pinKey, 'base64url'), input)))?.token;
      if (!token) return this.#keypadFailure('UNKNOWN_CODE', lockout, at);
    } else {
      token = input.trim();
      // Not a grant (a JWS has three parts): a parcel label, which means something only during a batch.
      if (token.split('.').length !== 3 && this.#batch && this.#batch.until > this.now()) return this.#batchEntry(this.#batch.claims, via, token);
    }
    const now = this.now();
    const verdict = await this.#verifier.verify(token, { lockerId: this.#o.lockerId, now, clockToleranceSec: config.clockToleranceSec });
    if (!verdict.ok) return this.#refuse(verdict.code, via);
    const claims = verdict.claims;
    if (claims.act === 'deposit_batch') return this.#batchEntry(claims, via);
    // A pickup follows a parcel this locker moved: the door is where the locker itself saw it go in.
    let target = claims.cmp;
    if ((claims.act === 'pickup' || claims.act === 'collect') && (await store.compartment(target))?.parcel_id !== claims.sub && (await store.movedFrom(claims.sub, target))) {
      target = (await store.holderOf(claims.sub)) ?? target;
    }
    const compartment = await store.compartment(target);
    const refusal = decideAccess(claims, {
      lockerId: this.#o.lockerId,
      now,
      clockToleranceSec: config.clockToleranceSec,
      used: await store.isUsed(claims.jti),
      revoked: await store.isRevoked(claims.jti),
      compartment: compartment && {
        inService: compartment.in_service === 1,
        fault: compartment.fault,
        parcelId: compartment.parcel_id,
        busy: this.doors.isBusy(target),
      },
      parcelHeldIn: claims.act === 'deposit' ? await store.holderOf(claims.sub) : undefined,
    });
    if (refusal === 'ALREADY_USED' && (claims.act === 'pickup' || claims.act === 'collect')) {
      const reopened = await this.#reopen(claims, via);
      if (reopened) return reopened;
    }
    if (refusal) return this.#refuse(refusal, via, claims);
    // lock boards (issue 15): a lock that cannot be driven now (its board does not answer) does not use the code
    if (!this.doors.canPulse(target)) return this.#refuse(LOCK_NOT_DRIVEN, via, claims, 'Temporarily out of service');

    // Durably used (and the session stored) before the lock moves: a power cut after this can never open the
    // door twice, and a restart knows what was going on.
    const session = { jti: claims.jti, action: claims.act, parcelId: claims.sub };
    let fresh = true;
    await this.#record([{ type: 'code.accepted', jti: claims.jti, action: claims.act, parcelId: claims.sub, compartmentId: claims.cmp, via }], async (trx) => {
      fresh = await store.markUsed(trx, claims.jti, claims.exp, now);
      if (!fresh) throw new UsedRace();
      // A code that opens ends the run of failed attempts.
      if (!isClear(lockout)) await store.setKeypadLockout(trx, NO_FAILURES);
      await store.setSession(trx, target, sessionRecord(session, 'accepted'));
    }).catch((err: unknown) => {
      if (!(err instanceof UsedRace)) throw err;
    });
    if (!fresh) return this.#refuse('ALREADY_USED', via, claims);
    hardware.display(`Door ${target} is open`);
    await this.doors.unlock(target, session);
    return { opened: target };
  }

  /** A batch code (or a label scanned while one is in use): the next parcel's door, or the labelled one's. */
  async #batchEntry(claims: GrantClaims, via: 'keypad' | 'scanner', label?: string): Promise<CodeOutcome> {
    const config = this.#config;
    const now = this.now();
    // A label scan reuses claims verified earlier: their window is checked again now.
    const late = config && checkClaims(claims, { lockerId: this.#o.lockerId, now, clockToleranceSec: config.clockToleranceSec });
    if (late) return this.#refuse(late, via, claims);
    const out = await enterBatch(
      { store: this.#o.store, doors: this.doors, now: () => this.now(), record: (e, a) => this.#record(e, a), display: (l) => this.#o.hardware.display(l) },
      claims,
      via,
      label,
    );
    if ('refused' in out) {
      if (out.refused === 'BATCH_DONE') this.#batch = undefined;
      return this.#refuse(out.refused, via, claims, out.refused === 'BATCH_DONE' ? 'Code not valid here: every parcel of it is in' : undefined);
    }
    this.#batch = out.remaining > 0 ? { claims, until: now + BATCH_LABEL_WINDOW_MS } : undefined;
    // Like any code that opens, a batch code ends the keypad's run of failed attempts.
    if (!isClear(await this.#o.store.keypadLockout())) await this.#record([], (trx) => this.#o.store.setKeypadLockout(trx, NO_FAILURES));
    return { opened: out.opened };
  }

  async #refuse(reason: AccessRefusal | typeof LOCK_NOT_DRIVEN, via: 'keypad' | 'scanner', claims?: GrantClaims, line = 'Code not valid here'): Promise<CodeOutcome> {
    this.#o.hardware.display(line);
    // A batch grant's `sub` is the session, not a parcel: its rejection names no parcel.
    const parcel = claims && claims.act !== 'deposit_batch' ? { parcelId: claims.sub } : {};
    await this.#record([{ type: 'code.rejected', reason, via, ...(claims ? { jti: claims.jti, compartmentId: claims.cmp, ...parcel } : {}) }]);
    return { refused: reason };
  }

  /**
   * A keypad entry that matched no code: counted, durably with its `code.rejected` event, and when it completes a
   * run of failures the keypad locks and `keypad.locked` is recorded in the same transaction (the server raises
   * the `repeated_wrong_codes` alarm for it).
   */
  async #keypadFailure(reason: 'MALFORMED' | 'UNKNOWN_CODE', before: LockoutState, at: number): Promise<CodeOutcome> {
    const { state, lockMs } = recordFailure(before, at, this.#lockout);
    const events: NewEvent[] = [{ type: 'code.rejected', reason, via: 'keypad' }];
    if (lockMs > 0) events.push({ type: 'keypad.locked', via: 'keypad', failures: state.failures, lockedUntil: state.lockedUntil });
    this.#o.hardware.display(lockMs > 0 ? lockedLine(lockMs) : 'Code not valid here');
    await this.#record(events, (trx) => this.#o.store.setKeypadLockout(trx, state));
    return { refused: reason };
  }

  async #record(events: NewEvent[], alsoDo?: (trx: DeviceTx) => Promise<void>): Promise<void> {
    const recorded = await this.#o.store.record(events, { bootId: this.bootId, now: this.now(), time: this.#time.serialize() }, alsoDo);
    if (recorded.length) {
      this.#recentPickups.observe(recorded, this.now());
      for (const listener of this.#eventListeners) listener(recorded);
      this.onRecorded?.(recorded);
      this.sync.flush();
    }
  }

  async #applyState(msg: StateMessage): Promise<{ applied: number } | { gap: true }> {
    const result = await applyDesiredState(this.#o.store, msg, { lockerId: this.#o.lockerId, now: this.now() });
    if ('applied' in result && result.changed) {
      this.#config = await this.#o.store.config();
      this.#verifier = new GrantVerifier(await this.#o.store.keys());
      this.#o.hardware.display('Enter your code');
      if (this.#time.serverConfirmed > 0) await this.#o.store.prune(Math.floor(this.#time.serverConfirmed / 1000));
    }
    return result;
  }
}

class UsedRace extends Error {}

function lockedLine(ms: number): string {
  return `Code not valid here. Keypad locked for ${Math.ceil(ms / 1000)} s; a QR code still works`;
}
