import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { GrantVerifier, type GrantClaims } from '../shared/grants.js';
import type { DeviceConfig, EventType, StateMessage } from '../shared/messages.js';
import { isPinFormat, pinHash } from '../shared/pin.js';
import { decideAccess, type AccessRefusal } from './access-rules.js';
import { step, type Effect, type Input, type Phase, type Session } from './compartment-machine.js';
import type { LockerHardware } from './hardware.js';
import type { DeviceStore, NewEvent } from './store/device-store.js';
import { applyDesiredState } from './sync/apply-state.js';
import { SyncClient } from './sync/sync-client.js';

export interface AgentOptions {
  lockerId: string;
  mqttUrl: string;
  password: string;
  hardware: LockerHardware;
  store: DeviceStore;
  clock: Clock;
  random?: () => number;
  /** After this long open, a door raises `door.left_open`. */
  doorLeftOpenMs?: number;
  ackTimeoutMs?: number;
  log?: (msg: string, data?: Record<string, unknown>) => void;
}

export type CodeOutcome = { opened: string } | { refused: AccessRefusal | 'NOT_READY' | 'MALFORMED' };

/**
 * The locker agent: decides locally whether a typed PIN or scanned QR opens a door (never waiting for the
 * network), records the grant as used before it drives the lock, follows the door sensors, and keeps the
 * server informed through the durable outbox.
 */
export class LockerAgent {
  readonly bootId = randomUUID().replaceAll('-', '');
  readonly sync: SyncClient;
  readonly #o: AgentOptions;
  readonly #phases = new Map<string, Phase>();
  readonly #timers = new Map<string, () => void>();
  #verifier = new GrantVerifier([]);
  #config: DeviceConfig | undefined;
  #serverOffset = 0;
  /** Code checks and compartment inputs run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void)[] = [];
  /** Every event recorded by this agent (for the simulator's checker). */
  onRecorded: ((events: readonly { type: EventType; seq: number; jti?: string }[]) => void) | undefined;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.sync = new SyncClient({
      lockerId: options.lockerId,
      mqttUrl: options.mqttUrl,
      password: options.password,
      bootId: this.bootId,
      clock: options.clock,
      store: options.store,
      random: options.random ?? Math.random,
      heartbeatMs: () => this.#config?.heartbeatMs ?? 30_000,
      ...(options.ackTimeoutMs ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
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
    this.#config = await store.config();
    this.#verifier = new GrantVerifier(await store.keys());
    for (const c of hardware.compartments()) {
      const record = await store.compartment(c.id);
      const door = await hardware.readDoor(c.id);
      // After a restart the door sensor is the truth: an open door stays open until it closes.
      this.#phases.set(c.id, record?.fault ? { kind: 'fault', reason: 'jam' } : door === 'open' ? { kind: 'open', session: null, leftOpenReported: false } : { kind: 'closed' });
    }
    this.#unsubscribe.push(
      hardware.onKeypad((code) => this.#background(this.enterCode(code, 'keypad'))),
      hardware.onScan((data) => this.#background(this.enterCode(data, 'scanner'))),
      hardware.onDoor((id, state) => this.#background(this.#serial(() => this.#feed(id, { type: 'door', state })))),
    );
    hardware.display(this.#config ? 'Enter your code' : 'Starting…');
    this.sync.start({
      onState: (msg) => this.#serial(() => this.#applyState(msg)),
      onServerTime: (t) => {
        this.#serverOffset = t - this.#o.clock.now();
      },
    });
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.sync.stop();
    await this.#queue.catch(() => undefined);
  }

  /** Best estimate of the true time: the device clock corrected by what the server last said. */
  now(): number {
    return this.#o.clock.now() + this.#serverOffset;
  }

  phase(compartmentId: string): Phase | undefined {
    return this.#phases.get(compartmentId);
  }

  /** A code from the keypad (a PIN) or the scanner (a QR grant). Resolves with what the locker did. */
  enterCode(input: string, via: 'keypad' | 'scanner'): Promise<CodeOutcome> {
    return this.#serial(() => this.#checkCode(input, via));
  }

  /** Work started by hardware or timers: a failure is logged, never an unhandled rejection. */
  #background(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.#o.log?.('agent task failed', { err: String(err) }));
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
    let token: string | undefined;
    if (via === 'keypad') {
      if (!isPinFormat(input, config.pinLength)) return this.#refuse('MALFORMED', via);
      token = (await store.grantByPinHash(pinHash(Buffer.from(config.pinKey, 'base64url'), input)))?.token;
      if (!token) return this.#refuse('UNKNOWN_CODE', via);
    } else {
      token = input.trim();
    }
    const verdict = await this.#verifier.verify(token, { lockerId: this.#o.lockerId, now: this.now(), clockToleranceSec: config.clockToleranceSec });
    if (!verdict.ok) return this.#refuse(verdict.code, via);
    const claims = verdict.claims;
    const compartment = await store.compartment(claims.cmp);
    const phase = this.#phases.get(claims.cmp);
    const refusal = decideAccess(claims, {
      lockerId: this.#o.lockerId,
      now: this.now(),
      clockToleranceSec: config.clockToleranceSec,
      used: await store.isUsed(claims.jti),
      compartment: compartment && {
        inService: compartment.in_service === 1,
        fault: compartment.fault,
        parcelId: compartment.parcel_id,
        busy: phase !== undefined && phase.kind !== 'closed',
      },
    });
    if (refusal) return this.#refuse(refusal, via, claims);

    // Durably used before the lock moves: a power cut after this line can never open the door twice.
    let fresh = true;
    await this.#record([{ type: 'code.accepted', jti: claims.jti, action: claims.act, parcelId: claims.sub, compartmentId: claims.cmp, via }], async (trx) => {
      fresh = await store.markUsed(trx, claims.jti, claims.exp, this.#o.clock.now());
      if (!fresh) throw new UsedRace();
    }).catch((err: unknown) => {
      if (!(err instanceof UsedRace)) throw err;
    });
    if (!fresh) return this.#refuse('ALREADY_USED', via, claims);
    hardware.display(`Door ${claims.cmp} is open`);
    await this.#feed(claims.cmp, { type: 'unlock', session: { jti: claims.jti, action: claims.act, parcelId: claims.sub } });
    return { opened: claims.cmp };
  }

  async #refuse(reason: AccessRefusal | 'MALFORMED', via: 'keypad' | 'scanner', claims?: GrantClaims): Promise<CodeOutcome> {
    this.#o.hardware.display('Code not valid here');
    await this.#record([{ type: 'code.rejected', reason, via, ...(claims ? { jti: claims.jti, compartmentId: claims.cmp, parcelId: claims.sub } : {}) }]);
    return { refused: reason };
  }

  /** Runs one input through a compartment's state machine and carries out its effects in order. */
  async #feed(compartmentId: string, input: Input): Promise<void> {
    const phase = this.#phases.get(compartmentId);
    if (!phase) return;
    const { phase: next, effects } = step(phase, input);
    this.#phases.set(compartmentId, next);
    const session = phase.kind === 'unlocking' || phase.kind === 'open' ? phase.session : input.type === 'unlock' ? input.session : null;
    for (const effect of effects) await this.#effect(compartmentId, effect, session);
  }

  async #effect(compartmentId: string, effect: Effect, session: Session | null): Promise<void> {
    const { store, hardware, clock } = this.#o;
    const about = { compartmentId, ...(session ? { jti: session.jti, parcelId: session.parcelId } : {}) };
    switch (effect.type) {
      case 'pulse':
        await hardware.pulseLock(compartmentId);
        return;
      case 'timer': {
        this.#timers.get(compartmentId)?.();
        const ms = effect.ms === 'doorOpen' ? (this.#config?.doorOpenTimeoutMs ?? 30_000) : (this.#o.doorLeftOpenMs ?? 120_000);
        this.#timers.set(compartmentId, clock.setTimeout(() => this.#background(this.#serial(() => this.#feed(compartmentId, { type: 'timeout' }))), ms));
        return;
      }
      case 'cancelTimer':
        this.#timers.get(compartmentId)?.();
        this.#timers.delete(compartmentId);
        return;
      case 'emit':
        if (effect.event === 'lock.jammed') {
          await this.#record([{ type: 'lock.jammed', ...about }], (trx) => store.setFault(trx, compartmentId, 'jam'));
        } else {
          await this.#record([{ type: effect.event, ...about }]);
        }
        return;
      case 'completed': {
        const s = effect.session;
        if (s.action === 'deposit') {
          await this.#record([{ type: 'parcel.deposited', ...about }], (trx) => store.setContents(trx, compartmentId, s.parcelId));
        } else if (s.action === 'pickup' || s.action === 'collect') {
          await this.#record([{ type: 'parcel.picked_up', ...about }], (trx) => store.setContents(trx, compartmentId, null));
        }
        hardware.display('Thank you');
        return;
      }
      case 'refused':
        await this.#record([{ type: 'code.rejected', reason: effect.reason, ...about }]);
        return;
    }
  }

  async #record(events: NewEvent[], alsoDo?: Parameters<DeviceStore['record']>[2]): Promise<void> {
    const recorded = await this.#o.store.record(events, { bootId: this.bootId, now: this.now() }, alsoDo);
    this.onRecorded?.(recorded);
    this.sync.flush();
  }

  async #applyState(msg: StateMessage): Promise<{ applied: number } | { gap: true }> {
    const result = await applyDesiredState(this.#o.store, msg, { lockerId: this.#o.lockerId });
    if ('applied' in result && result.changed) {
      this.#config = await this.#o.store.config();
      this.#verifier = new GrantVerifier(await this.#o.store.keys());
      this.#o.hardware.display('Enter your code');
    }
    return result;
  }
}

class UsedRace extends Error {}
