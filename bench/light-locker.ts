import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import type { Limit } from 'p-limit';
import { connectFailureOf, reconnectDelay, type ConnectFailure } from '../device/sync/backoff.js';
import { signBrokerToken } from '../shared/broker-credentials.js';
import type { DeviceEvent, EventBatchMessage, HeartbeatMessage, StateGetMessage } from '../shared/messages.js';
import { MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from '../shared/protocol-version.js';
import { topics } from '../shared/topics.js';

/**
 * A locker reduced to its wire behaviour, light enough for ten thousand in one process: one MQTT connection
 * (client id = username = locker id, password = a fresh broker token signed with its own key for each
 * connect, as device/identity.ts does), the agent's connect sequence (subscriptions, retained "online" with an
 * "offline" will, a snapshot request), heartbeats, and an in-memory outbox sent one batch at a time and
 * emptied only by the ack. Reconnects like the agent: exponential backoff with full jitter, the longer one after a
 * CONNACK 3 or no CONNACK in time. Its connect timeout is 30 s, the agent's 10 s: the bench's client processes hold
 * thousands of lockers each and may themselves be late to read a CONNACK that came in time.
 */
export interface LightLockerOptions {
  lockerId: string;
  /** The locker's Ed25519 private key, PKCS#8 DER in base64 (see FleetCredential). */
  key: string;
  host: string;
  port: number;
  localAddress?: string;
  /** 'server': the Lockstep protocol (events/ack after commit). 'puback': bare broker, the PUBACK is the ack. */
  ack: 'server' | 'puback';
  /** 0: no heartbeats. */
  heartbeatMs: number;
  /** MQTT keepalive (default 30 s, the agent's): a big fleet's pings are traffic too (bench/fleet.ts). */
  keepaliveSec?: number;
  ackTimeoutMs: number;
  random: () => number;
  /**
   * Shared by the lockers of one client process: at most so many connecting at once, from the start of an attempt to
   * its CONNACK or close (BENCH_CLIENT_CONNECTS, bench/harness.ts; p-limit). Thousands of lockers retrying together in one
   * process would otherwise each send their CONNECT only when the process's busy loop next sees the socket connected,
   * often after the server's 10 s sign-in timeout (docs/scale.md, session 16); a real locker sends it at once.
   */
  slots?: { run: Limit; size: number };
}

/** The events a locker records all day: a wrong code, a door opened and closed. No parcel is involved. */
const KINDS: Pick<DeviceEvent, 'type' | 'reason' | 'via' | 'compartmentId'>[] = [
  { type: 'code.rejected', reason: 'UNKNOWN_CODE', via: 'keypad' },
  { type: 'door.opened', compartmentId: 'A1' },
  { type: 'door.closed', compartmentId: 'A1' },
];
const STABLE_AFTER_MS = 30_000;

export class LightLocker {
  readonly bootId: string;
  readonly #o: LightLockerOptions;
  readonly #client: MqttClient;
  readonly #key: KeyObject;
  #outbox: DeviceEvent[] = [];
  #seq = 0;
  /** Desired-state version of the last snapshot or delta received (reported in heartbeats, as the agent does). */
  #applied = 0;
  #inFlight: number[] | null = null;
  #attempt = 0;
  #failure: ConnectFailure = undefined;
  #connectedAt = 0;
  #stopped = false;
  #started = false;
  #pumpBatch = 0;
  #ackTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** The connect slot this attempt holds, given back at its CONNACK or its close. */
  #releaseSlot: (() => void) | undefined;
  /** The current attempt ended in an error the client reported (a refusing CONNACK, no CONNACK in time, a socket error). */
  #attemptFailed = false;
  #firstConnect: { resolve: () => void; promise: Promise<void> };
  /** Times (ms since the epoch) at which each connection was set up. */
  readonly connectTimes: number[] = [];
  /**
   * busy: connects refused with CONNACK 3 "server unavailable"; attempts: connects tried; timeouts: of those, no
   * CONNACK in time; dropped: closed before any CONNACK (by the server, e.g. its sign-in timeout, or the network);
   * slotWaits: attempts that waited for a connect slot.
   */
  readonly stats = { sent: 0, acked: 0, resent: 0, heartbeats: 0, snapshots: 0, closes: 0, busy: 0, attempts: 0, timeouts: 0, dropped: 0, slotWaits: 0 };

  constructor(o: LightLockerOptions) {
    this.#o = o;
    this.#key = createPrivateKey({ key: Buffer.from(o.key, 'base64'), format: 'der', type: 'pkcs8' });
    this.bootId = Math.floor(o.random() * 2 ** 48).toString(16).padStart(12, '0') + o.lockerId.replace(/[^A-Za-z0-9]/g, '').slice(-12);
    let resolve = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstConnect = { resolve, promise };
    const offline = JSON.stringify({ v: PROTOCOL_VERSION, state: 'offline', bootId: this.bootId });
    this.#client = new MqttClient(
      () => createConnection({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }),
      {
        clientId: o.lockerId,
        username: o.lockerId,
        protocolVersion: 4,
        clean: true,
        keepalive: o.keepaliveSec ?? 30,
        connectTimeout: 30_000,
        reconnectPeriod: 0,
        manualConnect: true,
        will: { topic: topics.status(o.lockerId), payload: Buffer.from(offline), qos: 1, retain: true },
      },
    );
    this.#client.on('connect', () => this.#onConnect());
    this.#client.on('close', () => this.#onClose());
    // As the agent: refused as busy (CONNACK 3), or no CONNACK within the connect timeout, a longer wait.
    this.#client.on('error', (err) => {
      this.#attemptFailed = true;
      const failure = connectFailureOf(err);
      if (failure === 'busy') this.stats.busy++;
      if (failure === 'no-answer') this.stats.timeouts++;
      this.#failure = failure ?? this.#failure;
    });
    this.#client.on('message', (topic, payload) => this.#onMessage(topic, payload));
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  get ever(): boolean {
    return this.connectTimes.length > 0;
  }

  /** Unacknowledged events. */
  get outbox(): number {
    return this.#outbox.length;
  }

  /** Connects (and keeps reconnecting); resolves once the first connection is set up. */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      void this.#connect(false);
    }
    return this.#firstConnect.promise;
  }

  /** Records `n` events in the outbox (as the agent does whether or not it is connected). */
  record(n: number): void {
    this.#append(n);
    this.flush();
  }

  /**
   * A power cut: the connection drops without a DISCONNECT (so the broker publishes the will), `n` events are
   * recorded meanwhile, and the locker comes back as after any drop: the backoff's first step, full jitter.
   */
  cut(n: number): void {
    this.#append(n);
    this.#client.stream.destroy();
  }

  #append(n: number): void {
    const at = Date.now();
    for (let i = 0; i < n; i++) {
      const seq = ++this.#seq;
      const kind = KINDS[seq % KINDS.length] as (typeof KINDS)[number];
      this.#outbox.push({ seq, id: `${this.bootId}_${seq}`, bootId: this.bootId, at, ...kind });
    }
  }

  /** Closed loop: whenever the outbox is empty, `batch` new events are recorded and sent. 0 stops. */
  pump(batch: number): void {
    this.#pumpBatch = batch;
    if (batch > 0 && this.#outbox.length === 0) this.record(batch);
  }

  flush(): void {
    if (!this.#client.connected || this.#inFlight || this.#outbox.length === 0) return;
    const events = this.#outbox.slice(0, MAX_EVENTS_PER_BATCH);
    const seqs = events.map((e) => e.seq);
    this.#inFlight = seqs;
    this.stats.sent += seqs.length;
    const batch: EventBatchMessage = { v: PROTOCOL_VERSION, events };
    this.#ackTimer = setTimeout(() => {
      if (this.#inFlight) this.stats.resent += this.#inFlight.length;
      this.#inFlight = null;
      this.flush();
    }, this.#o.ackTimeoutMs);
    this.#client.publish(topics.events(this.#o.lockerId), JSON.stringify(batch), { qos: 1 }, (err) => {
      if (!err && this.#o.ack === 'puback' && this.#inFlight === seqs) this.#acknowledge(seqs);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pumpBatch = 0;
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#reconnectTimer);
    await Promise.race([this.#client.endAsync(true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }

  #onConnect(): void {
    this.#freeSlot();
    this.#connectedAt = Date.now();
    this.#inFlight = null;
    const id = this.#o.lockerId;
    const c = this.#client;
    c.subscribe([topics.state(id), topics.eventsAck(id), topics.commands(id)], { qos: 1 }, () => {
      c.publish(topics.status(id), JSON.stringify({ v: PROTOCOL_VERSION, state: 'online', bootId: this.bootId, at: Date.now() }), { qos: 1, retain: true }, () => {
        const get: StateGetMessage = { v: PROTOCOL_VERSION, have: this.#applied, reason: 'connect' };
        c.publish(topics.stateGet(id), JSON.stringify(get), { qos: 1 }, () => {
          this.connectTimes.push(Date.now());
          this.#firstConnect.resolve();
          this.flush();
          this.#scheduleHeartbeat(Math.floor(this.#o.random() * this.#o.heartbeatMs));
        });
      });
    });
  }

  #onClose(): void {
    this.#freeSlot();
    this.stats.closes++;
    if (!this.#connectedAt && !this.#attemptFailed && !this.#stopped) this.stats.dropped++;
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#heartbeatTimer);
    if (this.#inFlight) this.stats.resent += this.#inFlight.length;
    this.#inFlight = null;
    if (this.#stopped) return;
    if (this.#connectedAt && Date.now() - this.#connectedAt >= STABLE_AFTER_MS) this.#attempt = 0;
    this.#connectedAt = 0;
    clearTimeout(this.#reconnectTimer);
    const delay = reconnectDelay(this.#attempt++, this.#failure, this.#o.random);
    this.#failure = undefined;
    this.#reconnectTimer = setTimeout(() => void this.#connect(true), delay);
  }

  /** Each connect signs in with a token used nowhere else (the broker refuses a token seen before). */
  async #connect(again: boolean): Promise<void> {
    const slots = this.#o.slots;
    if (!slots) return this.#tryConnect(again);
    if (slots.run.pendingCount > 0 || slots.run.activeCount >= slots.size) this.stats.slotWaits++;
    // The slot is held until the attempt's CONNACK or close (#freeSlot).
    await slots.run(
      () =>
        new Promise<void>((release) => {
          this.#releaseSlot = release;
          this.#tryConnect(again).catch(release);
        }),
    );
  }

  async #tryConnect(again: boolean): Promise<void> {
    if (this.#stopped) return this.#freeSlot();
    this.#attemptFailed = false;
    this.#client.options.password = await signBrokerToken(this.#key, this.#o.lockerId, Date.now(), randomUUID().replaceAll('-', ''));
    if (this.#stopped) return this.#freeSlot();
    this.stats.attempts++;
    if (again) this.#client.reconnect();
    else this.#client.connect();
  }

  #freeSlot(): void {
    this.#releaseSlot?.();
    this.#releaseSlot = undefined;
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic.endsWith('/events/ack')) {
      let seqs: number[];
      try {
        seqs = (JSON.parse(payload.toString('utf8')) as { seqs: number[] }).seqs;
      } catch {
        return;
      }
      this.#acknowledge(seqs);
    } else if (topic.endsWith('/state')) {
      this.stats.snapshots++;
      try {
        const version = (JSON.parse(payload.toString('utf8')) as { version?: unknown }).version;
        if (typeof version === 'number' && version > this.#applied) this.#applied = version;
      } catch {
        // not ours to judge: the agent would ask for a snapshot; a light locker just keeps its version
      }
    }
  }

  #acknowledge(seqs: readonly number[]): void {
    const done = new Set(seqs);
    const before = this.#outbox.length;
    this.#outbox = this.#outbox.filter((e) => !done.has(e.seq));
    this.stats.acked += before - this.#outbox.length;
    if (this.#inFlight && this.#inFlight.every((s) => done.has(s))) {
      this.#inFlight = null;
      clearTimeout(this.#ackTimer);
    }
    if (this.#pumpBatch > 0 && this.#outbox.length === 0) this.record(this.#pumpBatch);
    else this.flush();
  }

  #scheduleHeartbeat(delay: number): void {
    if (this.#o.heartbeatMs <= 0) return;
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => {
      if (!this.#client.connected) return;
      const hb: HeartbeatMessage = { v: PROTOCOL_VERSION, bootId: this.bootId, at: Date.now(), lastSeq: this.#seq, outbox: this.#outbox.length, appliedVersion: this.#applied };
      this.stats.heartbeats++;
      this.#client.publish(topics.heartbeat(this.#o.lockerId), JSON.stringify(hb), { qos: 1 });
      this.#scheduleHeartbeat(this.#o.heartbeatMs);
    }, delay);
  }
}
