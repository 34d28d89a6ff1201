import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isStatusTopic, isWildcard } from '../../shared/topics.js';
import { fleetWills, type FleetWillStore, type WillMethods } from './fleet-wills.js';

const require = createRequire(import.meta.url);

type FleetMessage = { topic: string; payload: Buffer };

type Listener = (message: { topic: string; payload: Buffer | string }, done: () => void) => void;

/** The part of an MQEmitter (mqemitter-redis) the broker needs besides what aedes does with it. */
export interface FleetEmitter {
  on(topic: string, listener: Listener, callback?: () => void): unknown;
  removeListener(topic: string, listener: Listener, callback?: () => void): unknown;
  emit(message: FleetMessage, callback?: (error?: Error) => void): void;
  /** mqemitter-redis keeps MQEmitter's own methods under these names: this process's listeners only, no Redis. */
  _emit(message: FleetMessage, callback?: (error?: Error) => void): void;
  _on(topic: string, listener: Listener, callback?: () => void): unknown;
  _removeListener(topic: string, listener: Listener, callback?: () => void): unknown;
}

type EmitterFactory = (opts: { subConn: Redis; pubConn: Redis }) => FleetEmitter & {
  state: { on(event: 'error', cb: (err: Error) => void): void };
  subConn: Redis;
};
type PersistenceFactory = (opts: RedisAddress & { enableAutoPipelining?: boolean }) => {
  destroy(): Promise<void>;
  delWill(client: unknown): Promise<unknown>;
  /** The async instance under aedes-persistence's callback layer (what the layer calls). */
  asyncPersistence: WillMethods & { readonly broker: { id: string; clients: Record<string, { will?: unknown } | undefined> } };
};

/** ioredis' connection options, from a redis:// URL (the persistence makes its own connection from them). */
interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

export function redisAddress(url: string): RedisAddress {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number.isInteger(db) ? db : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

// Both packages are CommonJS and export a factory; aedes takes them as `mq` and `persistence`. The persistence is
// wrapped in aedes-persistence's callback layer (as aedes' own memory default is); called without a callback, its
// destroy() returns the promise (with one it would wait for a 'ready' that setup() through aedes 1.x never emits).
const mqemitterRedis = require('mqemitter-redis') as EmitterFactory;
const redisPersistence = require('aedes-persistence-redis') as PersistenceFactory;

/**
 * What makes every process's embedded broker one fleet (REDIS_URL): aedes' own clustering. mqemitter-redis carries
 * every publish between the processes (a message reaches the process its subscriber is connected to), and
 * aedes-persistence-redis keeps retained messages (each locker's status) in Redis; wills are kept by fleet-wills.ts,
 * and no client has a persistent session (cleanSessionShortcuts).
 * The processes agree on nothing else: sign-in and topic rules stay in each process (server/broker/embedded-broker.ts).
 */
export interface BrokerFleet {
  readonly mq: FleetEmitter;
  readonly persistence: unknown;
  /**
   * Which messages need no other process (the broker says, once it knows its clients): they are delivered in this
   * process alone, without the round trip through Redis every other message makes. Unset: everything goes through Redis.
   */
  keepLocal(isLocal: (topic: string) => boolean): void;
  /**
   * Subscriptions matching `covers` (every locker's exact topics) stay in this process's emitter: no Redis
   * channel each, which cost a SUBSCRIBE per topic at every connect and an UNSUBSCRIBE at every disconnect.
   * This process hears every message for them through the one Redis pattern `pattern` instead, and its emitter
   * delivers each to the locker if it is connected here.
   */
  subscribeThroughPattern(pattern: string, covers: (topic: string) => boolean): Promise<void>;
  /** Messages delivered in this process alone, and through Redis, since the start. */
  readonly routed: { local: number; fleet: number };
  /** How often each broker tells the fleet it is alive (aedes' heartbeatInterval): 3 missed, its wills are published. */
  readonly heartbeatMs: number;
  /** Called after aedes closed (aedes closes the emitter itself, not the persistence). */
  close(): Promise<void>;
}

type RetainedLookup = { createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> | Iterable<unknown> };

/**
 * What aedes asks the persistence at every connect that can only be empty here, answered without Redis. Every client
 * has a clean session (the sign-in refuses any other, broker-sign-in.ts), so none has stored subscriptions to clean
 * up or a queue of messages to empty: aedes-persistence-redis had read both, a round trip each, in every connect's
 * chain. And only a locker's status topic holds a retained message (the broker takes retain on nothing else and the
 * server retains nothing), so a locker's subscriptions (its own topics by exact name, never a status) need no lookup:
 * it had been a round trip per topic, one after the other, at every connect. Wildcard and status subscriptions are
 * still looked up.
 */
function cleanSessionShortcuts(inner: RetainedLookup) {
  const lookup = inner.createRetainedStreamCombi.bind(inner);
  return {
    cleanSubscriptions: async () => undefined,
    outgoingStream: () => [],
    createRetainedStreamCombi(patterns: string[]) {
      const may = patterns.filter((p) => isWildcard(p) || isStatusTopic(p));
      return may.length ? lookup(may) : [];
    },
  };
}

/** Connects this process to the fleet's Redis at `url` (redis://host:port[/db]). */
export function openBrokerFleet(url: string, log: Logger, heartbeatMs = 60_000): BrokerFleet {
  // Auto-pipelining: the commands issued in one turn of the event loop go to Redis in one write. A power cut's
  // thousands of disconnects at once (a retained status and a will each) had cost one system call per command.
  // (mqemitter-redis asks for it too, but drops its options when given a URL: so the connections are made here.)
  const address = redisAddress(url);
  const mq = mqemitterRedis({ subConn: new Redis(address), pubConn: new Redis({ ...address, enableAutoPipelining: true }) });
  mq.state.on('error', (err) => log.warn({ err: err.message }, 'redis (broker emitter) connection error'));
  const persistence = redisPersistence({ ...address, enableAutoPipelining: true });
  // Wills at a constant cost per connect, in place of the persistence's single list (fleet-wills.ts).
  const willsConn = new Redis({ ...address, enableAutoPipelining: true });
  willsConn.on('error', (err) => log.warn({ err: err.message }, 'redis (broker wills) connection error'));
  const inner = persistence.asyncPersistence;
  const wills: FleetWillStore = fleetWills(willsConn, () => inner.broker.id, { heartbeatMs, connectedHere: (id) => inner.broker.clients[id] });
  const { putWill, getWill, delWill: delStoredWill, streamWill } = wills;
  Object.assign(inner, { putWill, getWill, delWill: delStoredWill, streamWill });
  Object.assign(inner, cleanSessionShortcuts(inner as unknown as RetainedLookup));
  // A locker closed at shutdown publishes its will, then aedes deletes it from Redis without waiting (and the
  // persistence fires part of that without awaiting it): closing the connection under them fails. Count both.
  let inFlight = 0;
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight++;
    return work.finally(() => inFlight--);
  };
  const emit = mq.emit.bind(mq);
  const emitHere = mq._emit.bind(mq);
  let isLocal: (topic: string) => boolean = () => false;
  const routed = { local: 0, fleet: 0 };
  mq.emit = (message, callback) => {
    if (isLocal(message.topic)) {
      routed.local++;
      emitHere(message, callback);
      return;
    }
    routed.fleet++;
    inFlight++;
    emit(message, (err) => {
      inFlight--;
      callback?.(err);
    });
  };
  let covered: (topic: string) => boolean = () => false;
  const on = mq.on.bind(mq);
  const removeListener = mq.removeListener.bind(mq);
  mq.on = (topic, listener, callback) => (covered(topic) ? mq._on(topic, listener, callback) : on(topic, listener, callback));
  mq.removeListener = (topic, listener, callback) => (covered(topic) ? mq._removeListener(topic, listener, callback) : removeListener(topic, listener, callback));
  const delWill = persistence.delWill.bind(persistence);
  persistence.delWill = (client) => track(delWill(client));
  return {
    mq,
    persistence,
    keepLocal(predicate) {
      isLocal = predicate;
    },
    async subscribeThroughPattern(pattern, covers) {
      // mqemitter-redis hands every pattern message to its own emitter, which matches it against this process's
      // listeners (a message for a locker connected elsewhere matches none here and is dropped).
      await mq.subConn.psubscribe(pattern);
      covered = covers;
    },
    routed,
    heartbeatMs,
    async close() {
      // Settled: nothing in flight over a few turns (a will's delete starts a turn after its publish), at most 3 s.
      const until = Date.now() + 3000;
      for (let quiet = 0; quiet < 3 && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 5));
        quiet = inFlight === 0 ? quiet + 1 : 0;
      }
      await wills.stop();
      try {
        await persistence.destroy();
      } finally {
        await willsConn.quit().catch(() => willsConn.disconnect());
      }
    },
  };
}
