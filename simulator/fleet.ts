import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../shared/clock.js';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import type { EventType } from '../shared/messages.js';
import { LockerAgent } from '../device/agent.js';
import { DeviceStore } from '../device/store/device-store.js';
import type { EnrolmentTicket, LockerView } from '../shared/api/lockers.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from '../device/identity.js';
import type { ApiClient } from '../client/http-client.js';
import type { Recorder } from './metrics.js';
import type { DeviceProcessConfig } from './device-process.js';
import { hostHardware, type ToHost } from './ipc-hardware.js';
import { SimulatedLocker } from './simulated-locker.js';
import { directLink, TcpProxy, type NetworkLink } from './tcp-proxy.js';
// Firmware updates and remote diagnostics (issue 19):
import type { UpdateSettings } from '../device/update/updater.js';
import { LogTail } from '../device/diagnostics.js';
import { createDeviceLogger } from '../device/device-logger.js';

/** Compartment mix of a simulated locker. */
export const DEFAULT_COMPARTMENTS: readonly { id: string; size: CompartmentSize }[] = [
  { id: 'A1', size: 'S' },
  { id: 'A2', size: 'S' },
  { id: 'A3', size: 'S' },
  { id: 'B1', size: 'M' },
  { id: 'B2', size: 'M' },
  { id: 'C1', size: 'L' },
  { id: 'D1', size: 'XL' },
];

/** What the simulator saw an in-process locker record. */
interface DeviceTap {
  seqs: Set<number>;
  acceptedByJti: Map<string, number>;
  byType: Map<EventType, number>;
}

/** A simulated locker as the simulator drives it: hardware here, agent in process or in a child process. */
export interface SimLocker {
  id: string;
  hardware: SimulatedLocker;
  /** The locker's network: cut it for an outage (a TcpProxy, or a direct link that cannot be cut). */
  proxy: NetworkLink;
  /** One person at the keypad at a time: visits queue here. */
  turn: Promise<unknown>;
  ready(): boolean;
  /** Unacknowledged events, or null while the agent is down. */
  outboxSize(): Promise<number | null>;
  lastSeq(): Promise<number>;
  /** Events and batches sent again (after an ack wait ran out or a reconnect), over every run of the agent. */
  resent(): { events: number; batches: number };
  crashes: number;
  /** SIGKILL the agent (child-process lockers only); `restart` starts it again on the same store. */
  crash?(): Promise<void>;
  restart?(): void;
  crashAndRestart?(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LockerSetup {
  api: ApiClient;
  name: string;
  location: { lat: number; lon: number };
  compartments?: readonly { id: string; size: CompartmentSize }[];
  dataDir: string;
  clock: Clock;
  random: () => number;
  /** Unacknowledged events before the agent stops taking codes (default: the agent's). */
  outboxLimit?: number;
  seed?: number;
  /** Where an in-process locker reports committed events and their record-to-ack latency. */
  recorder?: Recorder;
  /** Spread of the agent's first connect (a fleet started at once). */
  startJitterMs?: number;
  /** How long the agent waits for an ack before sending a batch again (default 2 s). */
  ackTimeoutMs?: number;
  /** Connect straight to the broker, without a proxy (the network then cannot be cut). */
  direct?: boolean;
  /** Screen (issue 14): the agent's reopen-once window, seconds (default: off). */
  reopenWindowSec?: number;
  /**
   * Firmware updates and diagnostics (issue 19): the agent takes updates (versions folder `<dataDir>/<id>-firmware`,
   * the server's API for downloads) and keeps its recent log for diagnostics.
   */
  firmware?: Omit<UpdateSettings, 'dir' | 'apiUrl'>;
}

const newEventId = () => randomUUID().replaceAll('-', '');

/**
 * An operator registers the locker; its controller makes its own key pair and enrols with the single-use token
 * (as a real one does on first start), then reaches the broker through its own proxy (its network).
 */
async function register(s: LockerSetup) {
  const compartments = s.compartments ?? DEFAULT_COMPARTMENTS;
  const created = await s.api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: s.name, location: s.location, compartments });
  const dbFile = path.join(s.dataDir, `${created.id}.sqlite`);
  const store = await DeviceStore.open(dbFile, newEventId);
  const identity = await DeviceIdentity.loadOrCreate(store);
  const enrolled = await s.api.withServer((baseUrl) => enrol(baseUrl, created.id, created.enrolment.token, identity.publicKey));
  await continueNumbering(store, enrolled.lastSeq);
  // Against an external broker with static per-locker accounts (Mosquitto dynamic security) enrolment hands one over.
  await keepBrokerAccount(store, enrolled.broker);
  if (s.direct) return { created, compartments, proxy: directLink(), mqttUrl: enrolled.mqttUrl, store, identity, dbFile };
  const broker = new URL(enrolled.mqttUrl);
  const proxy = new TcpProxy(broker.hostname, Number(broker.port));
  const mqttUrl = await proxy.listen().catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  return { created, compartments, proxy, mqttUrl, store, identity, dbFile };
}

export type InProcessLocker = SimLocker & {
  /** The running agent (a new one after a power cut). */
  agent: LockerAgent;
  store: DeviceStore;
  tap: DeviceTap;
  /** How its agent reaches the broker (through its proxy), to start another agent on the same store. */
  credentials: { mqttUrl: string; password: () => Promise<string> };
  /** Cuts the power: the agent stops where it is (no goodbye) and starts again on the same store after `downMs`. */
  powerCut(downMs: number): Promise<void>;
};

/** Registers a locker with the server and starts its agent in this process on simulated hardware. */
export async function startSimLocker(s: LockerSetup): Promise<InProcessLocker> {
  const { created, compartments, proxy, mqttUrl, store, identity } = await register(s);
  const hardware = new SimulatedLocker(compartments);
  const password = () => identity.brokerPassword(created.id, s.clock.now());
  const tap: DeviceTap = { seqs: new Set(), acceptedByJti: new Map(), byType: new Map() };
  // Event-to-commit: from the moment the agent records an event to its ack, which the server sends after the commit.
  const recordedAt = new Map<number, number>();
  if (s.recorder) {
    const recorder = s.recorder;
    const acknowledge = store.acknowledge.bind(store);
    store.acknowledge = async (seqs) => {
      await acknowledge(seqs);
      const now = performance.now();
      for (const seq of seqs) {
        const at = recordedAt.get(seq);
        if (at === undefined) continue;
        recordedAt.delete(seq);
        recorder.add('committed');
        recorder.latency('commit', now - at);
      }
    };
  }
  // Firmware updates and remote diagnostics (issue 19): one log tail for every run of this locker's agent.
  const tail = s.firmware ? new LogTail() : undefined;
  const firmware = s.firmware
    ? {
        update: { ...s.firmware, dir: path.join(s.dataDir, `${created.id}-firmware`), apiUrl: s.api.baseUrl },
        log: createDeviceLogger('info', tail),
        logTail: () => tail?.lines() ?? [],
      }
    : {};
  const startAgent = () => {
    const agent = new LockerAgent({
      ...firmware,
      lockerId: created.id,
      mqttUrl,
      password,
      hardware,
      store,
      clock: s.clock,
      random: s.random,
      ackTimeoutMs: s.ackTimeoutMs ?? 2000,
      ...(s.outboxLimit !== undefined ? { outboxLimit: s.outboxLimit } : {}),
      ...(s.startJitterMs ? { startJitterMs: s.startJitterMs } : {}),
      ...(s.reopenWindowSec ? { reopenWindowSec: s.reopenWindowSec } : {}),
    });
    agent.onRecorded = (events) => {
      const now = performance.now();
      for (const e of events) {
        tap.seqs.add(e.seq);
        if (s.recorder) recordedAt.set(e.seq, now);
        tap.byType.set(e.type, (tap.byType.get(e.type) ?? 0) + 1);
        if (e.type === 'code.accepted' && e.jti) tap.acceptedByJti.set(e.jti, (tap.acceptedByJti.get(e.jti) ?? 0) + 1);
      }
    };
    return agent;
  };
  let resentBefore = { events: 0, batches: 0 };
  const locker: InProcessLocker = {
    id: created.id,
    hardware,
    proxy,
    agent: startAgent(),
    store,
    tap,
    credentials: { mqttUrl, password },
    turn: Promise.resolve(),
    crashes: 0,
    ready: () => locker.agent.ready,
    outboxSize: () => store.outboxSize(),
    lastSeq: () => store.lastSeq(),
    resent: () => ({ events: resentBefore.events + locker.agent.sync.stats.eventsResent, batches: resentBefore.batches + locker.agent.sync.stats.batchesResent }),
    async powerCut(downMs) {
      const old = locker.agent;
      old.sync.dropConnection();
      await old.stop();
      resentBefore = { events: resentBefore.events + old.sync.stats.eventsResent, batches: resentBefore.batches + old.sync.stats.batchesResent };
      locker.crashes++;
      await new Promise((r) => setTimeout(r, downMs));
      locker.agent = startAgent();
      await locker.agent.start();
    },
    async stop() {
      await locker.agent.stop();
      await store.close();
      await proxy.close();
    },
  };
  await locker.agent.start();
  return locker;
}

const DEVICE_ENTRY = fileURLToPath(new URL('./device-process.ts', import.meta.url));

/** Registers a locker and runs its agent in a child process (killable with SIGKILL); hardware stays here. */
export async function startProcessLocker(s: LockerSetup): Promise<SimLocker> {
  const { created, compartments, proxy, mqttUrl, store, dbFile } = await register(s);
  // The agent process opens the same store, with the identity made at enrolment.
  await store.close();
  const hardware = new SimulatedLocker(compartments);
  const config: DeviceProcessConfig = {
    lockerId: created.id,
    mqttUrl,
    dbFile,
    compartments: [...compartments],
    seed: s.seed ?? 1,
    ackTimeoutMs: 2000,
  };
  let status: Extract<ToHost, { t: 'status' }> | null = null;
  let resentBefore = { events: 0, batches: 0 };
  let child: ChildProcess | undefined;
  let unhost = () => {};
  const spawnAgent = () => {
    status = null;
    child = fork(DEVICE_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LOCKSTEP_SIM_DEVICE: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    unhost = hostHardware(child, hardware, (st) => (status = st));
  };
  spawnAgent();
  const locker: SimLocker = {
    id: created.id,
    hardware,
    proxy,
    turn: Promise.resolve(),
    crashes: 0,
    ready: () => status?.ready ?? false,
    outboxSize: async () => (status ? status.outbox : null),
    lastSeq: async () => status?.lastSeq ?? 0,
    resent: () => ({ events: resentBefore.events + (status?.resent ?? 0), batches: resentBefore.batches + (status?.resentBatches ?? 0) }),
    async crash() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      resentBefore = { events: resentBefore.events + (status?.resent ?? 0), batches: resentBefore.batches + (status?.resentBatches ?? 0) };
      status = null;
      unhost();
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
      locker.crashes++;
    },
    restart() {
      spawnAgent();
    },
    async crashAndRestart(downMs) {
      await locker.crash?.();
      await new Promise((r) => setTimeout(r, downMs));
      spawnAgent();
    },
    async stop() {
      const c = child;
      if (c && c.exitCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.send({ t: 'stop' });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null) c.kill('SIGKILL');
      }
      unhost();
      await proxy.close();
    },
  };
  return locker;
}
