import mqtt, { type MqttClient } from 'mqtt';
import { decoderFor, encode } from '../../shared/codec.js';
import { EventAckMessage, LockerCommandMessage, StateMessage, Telemetry, type StateGetMessage } from '../../shared/messages.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MAX_EVENTS_PER_BATCH, MAX_STATE_PAYLOAD_BYTES, PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from 'pino';
import { silentLogger } from '../device-logger.js';
import type { DeviceStore } from '../store/device-store.js';
import { ackWaitMs, connectFailureOf, reconnectDelay, type ConnectFailure } from './backoff.js';

export interface SyncOptions {
  lockerId: string;
  mqttUrl: string;
  /** A fresh broker password for each connect (a short-lived token signed with the device key). */
  password: () => Promise<string>;
  bootId: string;
  clock: Clock;
  store: DeviceStore;
  random?: () => number;
  /**
   * Resend the in-flight batch when no ack came within this time; each further miss in a row doubles the wait
   * (plus up to half at random), up to `maxAckTimeoutMs`; an ack of the batch in flight starts again from here.
   */
  ackTimeoutMs?: number;
  /** Longest wait for an ack before a resend, however many came late (default 8 × `ackTimeoutMs`). */
  maxAckTimeoutMs?: number;
  /** Heartbeat period, read each time (it comes with the server's config). */
  heartbeatMs?: () => number;
  /** Reads the hardware's telemetry for each heartbeat (undefined: none). */
  telemetry?: () => Promise<Telemetry | undefined>;
  /** The first connect waits a random time up to this long, so a fleet powered on at once does not connect at once. */
  startJitterMs?: number;
  /** A connection that lasted this long resets the backoff. */
  stableAfterMs?: number;
  /** How long a connect may wait for its CONNACK (default 10 s); no answer in time makes the next wait longer (backoff.ts). */
  connectTimeoutMs?: number;
  /** Where failures are logged (pino; default: nothing). */
  log?: Logger;
}

export interface SyncHandlers {
  /** A valid desired-state message arrived; returns the version now applied, or null to ask for a snapshot. */
  onState(message: StateMessage): Promise<{ applied: number } | { gap: true }>;
  /** The server's clock, as seen in a message. */
  onServerTime(serverTime: number): void;
  /** A valid command arrived (it may be one already run: the handler runs each id once). */
  onCommand(command: LockerCommandMessage): Promise<void>;
}

const decodeState = decoderFor(StateMessage, MAX_STATE_PAYLOAD_BYTES);
const decodeAck = decoderFor(EventAckMessage);
const decodeCommand = decoderFor(LockerCommandMessage);
const telemetryCheck = TypeCompiler.Compile(Telemetry);

/**
 * The device's MQTT side: presence (retained status + will), desired state in, events out from the durable
 * outbox one batch at a time, deleted only when the server acknowledges them. Reconnects with full jitter.
 */
export class SyncClient {
  readonly #o: Required<SyncOptions>;
  #client: MqttClient | undefined;
  #handlers: SyncHandlers | undefined;
  #attempt = 0;
  /** How the last connect failed, if that makes the next wait longer: refused busy (CONNACK 3), or no CONNACK in time. */
  #failure: ConnectFailure = undefined;
  #stopped = false;
  #inFlight: number[] | null = null;
  #cancelAckTimer: (() => void) | undefined;
  #cancelReconnect: (() => void) | undefined;
  #cancelHeartbeat: (() => void) | undefined;
  #flushing = false;
  #connectedAt = 0;
  #flushAgain = false;
  /** Ack waits in a row that ran out (reset when the batch in flight is acknowledged). */
  #ackMisses = 0;
  /**
   * Counters for the simulator and operators: `batchesResent` counts the sends of a batch after its ack wait ran
   * out or its connection dropped; `ackTimeouts` the waits that ran out.
   */
  readonly stats = { connects: 0, batchesSent: 0, batchesResent: 0, eventsSent: 0, eventsResent: 0, ackTimeouts: 0, invalidMessages: 0 };
  /** Set when the in-flight batch went unacknowledged: the next send is a resend. */
  #resendDue = false;

  constructor(options: SyncOptions) {
    const ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
    this.#o = {
      random: Math.random,
      heartbeatMs: () => 30_000,
      telemetry: () => Promise.resolve(undefined),
      startJitterMs: 0,
      stableAfterMs: 30_000,
      connectTimeoutMs: 10_000,
      ...options,
      log: options.log ?? silentLogger(),
      ackTimeoutMs,
      maxAckTimeoutMs: Math.max(ackTimeoutMs, options.maxAckTimeoutMs ?? 8 * ackTimeoutMs),
    };
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  start(handlers: SyncHandlers): void {
    this.#handlers = handlers;
    const { lockerId, bootId } = this.#o;
    const offline = encode({ v: PROTOCOL_VERSION, state: 'offline', bootId });
    const client = mqtt.connect(this.#o.mqttUrl, {
      clientId: lockerId,
      username: lockerId,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: this.#o.connectTimeoutMs,
      reconnectPeriod: 0,
      manualConnect: true,
      will: { topic: topics.status(lockerId), payload: offline, qos: 1, retain: true },
    });
    this.#client = client;
    client.on('connect', () => void this.#onConnect());
    client.on('message', (topic, payload) => {
      // A message that cannot be handled is logged and dropped; the server resends what matters.
      this.#onMessage(topic, payload).catch((err: unknown) => this.#o.log.error({ topic, err: String(err) }, 'message handling failed'));
    });
    client.on('close', () => this.#onClose());
    client.on('error', (err) => {
      this.#failure = connectFailureOf(err) ?? this.#failure;
      this.#o.log.warn({ err: err.message }, 'mqtt error');
    });
    const delay = this.#o.startJitterMs > 0 ? Math.floor(this.#o.random() * this.#o.startJitterMs) : 0;
    const first = () => void this.#withFreshPassword(() => client.connect());
    if (delay === 0) {
      first();
      return;
    }
    this.#cancelReconnect = this.#o.clock.setTimeout(() => {
      if (!this.#stopped) first();
    }, delay);
  }

  /** Sends what is in the outbox, if connected. Safe to call at any time. */
  flush(): void {
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = true;
    void this.#flushOnce()
      .catch((err: unknown) => this.#o.log.error({ err: String(err) }, 'flush failed'))
      .finally(() => {
      this.#flushing = false;
      if (this.#flushAgain) {
        this.#flushAgain = false;
        this.flush();
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelReconnect?.();
    this.#cancelAckTimer?.();
    this.#cancelHeartbeat?.();
    const client = this.#client;
    if (!client) return;
    if (client.connected) {
      const offline = encode({ v: PROTOCOL_VERSION, state: 'offline', bootId: this.#o.bootId, at: this.#o.clock.now() });
      // A goodbye on a connection that is already dead would wait forever for its PUBACK: bounded.
      await Promise.race([
        client.publishAsync(topics.status(this.#o.lockerId), offline, { qos: 1, retain: true }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    // A client that never connected may not settle its end: do not wait for it forever.
    await Promise.race([client.endAsync(true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }

  /** Drops the connection without a goodbye (as a network cut would); reconnects as usual. */
  dropConnection(): void {
    this.#client?.stream?.destroy();
  }

  async requestSnapshot(reason: StateGetMessage['reason']): Promise<void> {
    const msg: StateGetMessage = { v: PROTOCOL_VERSION, have: await this.#o.store.appliedVersion(), reason };
    await this.#publish(topics.stateGet(this.#o.lockerId), encode(msg));
  }

  async #onConnect(): Promise<void> {
    this.#connectedAt = this.#o.clock.now();
    this.stats.connects++;
    this.#inFlight = null;
    const { lockerId, bootId, clock } = this.#o;
    try {
      const client = this.#client;
      if (!client) return;
      // Small packets often go back to back (the next batch, then the PUBACK of an ack): without this, Nagle
      // holds the second until the server's delayed ACK (about 40 ms a batch).
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      await client.subscribeAsync([topics.state(lockerId), topics.eventsAck(lockerId), topics.commands(lockerId)], { qos: 1 });
      await this.#publish(topics.status(lockerId), encode({ v: PROTOCOL_VERSION, state: 'online', bootId, at: clock.now() }), true);
      await this.requestSnapshot('connect');
      this.flush();
      this.#scheduleHeartbeat();
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'connect setup failed');
    }
  }

  #onClose(): void {
    this.#cancelAckTimer?.();
    this.#cancelHeartbeat?.();
    // A batch without its ack goes again after the reconnect.
    if (this.#inFlight) {
      this.stats.eventsResent += this.#inFlight.length;
      this.#resendDue = true;
    }
    this.#inFlight = null;
    // Late acks were this connection's: the first wait on the next one starts from the ack timeout again.
    this.#ackMisses = 0;
    if (this.#stopped) return;
    this.#cancelReconnect?.();
    // Only a connection that held resets the backoff: a server that accepts and drops at once is not hammered.
    if (this.#connectedAt && this.#o.clock.now() - this.#connectedAt >= this.#o.stableAfterMs) this.#attempt = 0;
    this.#connectedAt = 0;
    // Refused as busy (CONNACK 3), or no CONNACK in time: a longer wait, so a fleet turned away at once does not
    // come back at once.
    const delay = reconnectDelay(this.#attempt++, this.#failure, this.#o.random);
    this.#failure = undefined;
    this.#cancelReconnect = this.#o.clock.setTimeout(() => {
      if (!this.#stopped) void this.#withFreshPassword(() => this.#client?.reconnect());
    }, delay);
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    const { lockerId, store } = this.#o;
    if (topic === topics.eventsAck(lockerId)) {
      const m = decodeAck(payload);
      if (!m.ok) {
        this.stats.invalidMessages++;
        return;
      }
      this.#handlers?.onServerTime(m.value.serverTime);
      await store.acknowledge(m.value.seqs);
      if (this.#inFlight && this.#inFlight.every((s) => m.value.seqs.includes(s))) {
        this.#inFlight = null;
        this.#ackMisses = 0;
        this.#cancelAckTimer?.();
      }
      this.flush();
      return;
    }
    if (topic === topics.commands(lockerId)) {
      const m = decodeCommand(payload);
      if (!m.ok) {
        this.stats.invalidMessages++;
        this.#o.log.warn({ code: m.code, detail: m.detail }, 'invalid command');
        return;
      }
      this.#handlers?.onServerTime(m.value.serverTime);
      await this.#handlers?.onCommand(m.value);
      return;
    }
    if (topic === topics.state(lockerId)) {
      const m = decodeState(payload);
      if (!m.ok) {
        this.stats.invalidMessages++;
        this.#o.log.warn({ code: m.code, detail: m.detail }, 'invalid state message');
        return;
      }
      this.#handlers?.onServerTime(m.value.serverTime);
      const result = await this.#handlers?.onState(m.value);
      if (!result) return;
      if ('gap' in result) {
        await this.requestSnapshot('gap');
      } else {
        await this.#publish(topics.stateReported(lockerId), encode({ v: PROTOCOL_VERSION, version: result.applied, lastSeq: await store.lastSeq() }));
      }
    }
  }

  async #flushOnce(): Promise<void> {
    if (!this.connected || this.#inFlight) return;
    const events = await this.#o.store.pending(MAX_EVENTS_PER_BATCH);
    if (events.length === 0 || !this.connected || this.#inFlight) return;
    this.#inFlight = events.map((e) => e.seq);
    this.stats.batchesSent++;
    if (this.#resendDue) this.stats.batchesResent++;
    this.#resendDue = false;
    this.stats.eventsSent += events.length;
    this.#cancelAckTimer?.();
    const wait = ackWaitMs(this.#ackMisses, this.#o.random, this.#o.ackTimeoutMs, this.#o.maxAckTimeoutMs);
    this.#cancelAckTimer = this.#o.clock.setTimeout(() => {
      // No ack: send again (the server applies each seq once, so a resend is harmless), but wait longer for the
      // next one: an ack that is late is usually on its way (a busy server), and each resend adds to its work.
      if (!this.#inFlight) return;
      this.stats.eventsResent += this.#inFlight.length;
      this.stats.ackTimeouts++;
      this.#ackMisses++;
      this.#resendDue = true;
      this.#inFlight = null;
      this.flush();
    }, wait);
    // Not awaited: a publish caught in a dropped connection may never settle. The ack (or its timeout) moves on.
    const client = this.#client;
    if (!client?.connected) {
      this.#inFlight = null;
      return;
    }
    client.publish(topics.events(this.#o.lockerId), encode({ v: PROTOCOL_VERSION, events }), { qos: 1 }, (err) => {
      if (err) this.#o.log.warn({ err: err.message }, 'event batch not sent');
    });
  }

  #scheduleHeartbeat(): void {
    this.#cancelHeartbeat?.();
    this.#cancelHeartbeat = this.#o.clock.setTimeout(() => {
      void this.sendHeartbeat()
        .catch(() => undefined)
        .finally(() => {
        if (this.connected && !this.#stopped) this.#scheduleHeartbeat();
      });
    }, this.#o.heartbeatMs());
  }

  /** Sends a heartbeat now (besides the periodic ones), e.g. when a sensor reading changed. */
  async sendHeartbeat(): Promise<void> {
    const { store, lockerId, bootId, clock } = this.#o;
    // A sensor that fails or reads nonsense costs only its telemetry, never the heartbeat.
    const telemetry = await this.#o.telemetry().catch(() => undefined);
    const msg = {
      v: PROTOCOL_VERSION,
      bootId,
      at: clock.now(),
      lastSeq: await store.lastSeq(),
      outbox: await store.outboxSize(),
      appliedVersion: await store.appliedVersion(),
      ...(telemetry !== undefined && telemetryCheck.Check(telemetry) ? { telemetry } : {}),
    };
    await this.#publish(topics.heartbeat(lockerId), encode(msg)).catch(() => undefined);
  }

  /** Signs a new broker token for this connect attempt (each expires within minutes). */
  async #withFreshPassword(connect: () => void): Promise<void> {
    const client = this.#client;
    if (!client || this.#stopped) return;
    try {
      client.options.password = await this.#o.password();
    } catch (err) {
      this.#o.log.error({ err: String(err) }, 'cannot sign broker credentials');
    }
    if (!this.#stopped) connect();
  }

  async #publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    const client = this.#client;
    if (!client?.connected) throw new Error('not connected');
    await client.publishAsync(topic, payload, { qos: 1, retain });
  }
}
