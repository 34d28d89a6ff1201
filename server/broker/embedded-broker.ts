import type { EventEmitter } from 'node:events';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Logger } from 'pino';
import { DEVICE_PUBLISHES, TOPIC_ROOT, deviceMayPublishMessage, deviceMaySubscribe, parseTopic } from '../../shared/topics.js';
import type { Db } from '../store/database.js';
import type { ServerStats } from '../stats.js';
import type { BrokerLink, ServerBroker } from './link.js';
import { Limiter } from './limiter.js';
import { indexedMemoryPersistence } from './retained-index.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { SocketGuard } from './guarded-connection.js';
import { connectionAcceptor, type TransportLimits } from './transport-limits.js';
import type { BrokerFleet } from './redis-fleet.js';
import { LocalDispatch } from './local-dispatch.js';
import { lockerSignIns } from './broker-sign-in.js';

interface BrokerDeps {
  db: Db;
  stats: ServerStats;
  log: Logger;
  clock: Clock;
  /** Where the MQTT (TCP) listener binds (port 0 picks a free one). */
  host: string;
  port: number;
  /** Packet size, sign-in and connection-rate limits, enforced on the socket before aedes reads a packet. */
  limits: TransportLimits;
  /** Several processes' brokers as one fleet over Redis (REDIS_URL, docs/scale.md); absent: this process alone. */
  fleet?: BrokerFleet;
}

/** Across a fleet: close this locker's connection wherever it is (no device may publish or subscribe to $SYS). */
const REVOKE_TOPIC = '$SYS/lockstep/revoke';

/**
 * The in-process aedes broker. Every client is a locker that proves itself with its own secret; client id =
 * username = locker id; each locker may use only its own topics, by exact name. The server itself talks to the
 * broker in process (no client, no credentials to leak).
 */
export async function createEmbeddedBroker({ db, stats, log, clock, host, port, limits, fleet }: BrokerDeps): Promise<ServerBroker> {
  // Each connection's guard, told when its client signed in (keyed by the socket aedes knows as client.conn).
  const guards = new WeakMap<object, SocketGuard>();
  // In a fleet, the server reads the device messages that arrived at this process only (see local-dispatch.ts).
  const local = fleet ? new LocalDispatch() : undefined;
  const { authenticate, known } = lockerSignIns({ db, stats, log, clock, limits: limits.signIns, guards });
  const aedes = await Aedes.createBroker({
    persistence: fleet ? fleet.persistence : indexedMemoryPersistence(),
    ...(fleet && local ? { mq: fleet.mq, heartbeatInterval: fleet.heartbeatMs, published: (packet: PublishPacket, _client: Client | null, done: (err?: Error | null) => void) => local.published(packet, done) } : {}),
    authenticate,
    authorizePublish(client: Client | null, packet: PublishPacket, done) {
      if (client === null) return done(null);
      const ok = deviceMayPublishMessage(client.id, packet.topic, packet.retain);
      if (!ok) {
        stats.aclDenied++;
        log.warn({ lockerId: client.id, topic: packet.topic.slice(0, 200) }, 'publish denied');
      }
      done(ok ? null : new Error('publish not authorized'));
    },
    authorizeSubscribe(client: Client, sub: Subscription, done) {
      if (deviceMaySubscribe(client.id, sub.topic)) return done(null, sub);
      stats.aclDenied++;
      log.warn({ lockerId: client.id, filter: sub.topic.slice(0, 200) }, 'subscribe denied');
      // A null subscription answers SUBACK 0x80 (failure) for this filter.
      done(null, null);
    },
  });
  // Every message gets one subscriber that finishes on the next turn. aedes hands messages to its emitter one
  // slot at a time, and a message whose subscribers all finish at once (none at all: aedes' own $SYS notice of
  // each connect, an ack for a locker that is away) starts the next queued one inside the same call: a fleet
  // reconnecting at once queued thousands and overflowed the stack (docs/performance.md, storm).
  // In a fleet, messages come through Redis and mqemitter-redis runs them without a queue: nothing to recurse, and
  // a '#' subscription would bring every process the whole fleet's traffic.
  if (!fleet) await new Promise<void>((resolve) => aedes.subscribe('#', (_packet, cb) => setImmediate(cb), resolve));
  // What stays in this process (redis-fleet.ts): a device's own messages, which only this process's server reads
  // (LocalDispatch), and the server's messages to a locker connected here. The rest goes through Redis: messages to
  // lockers connected elsewhere, and $SYS (revocations, and aedes' notice of each new client, by which the process
  // holding an older connection with the same id closes it).
  if (fleet) {
    const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const uplink: readonly string[] = DEVICE_PUBLISHES;
    // aedes' notices of each disconnect, subscribe and unsubscribe have no listener in any process: they stay here.
    const unheard = new Set(['disconnect/clients', 'new/subscribes', 'new/unsubscribes'].map((n) => `$SYS/${aedes.id}/${n}`));
    fleet.keepLocal((topic) => {
      if (unheard.has(topic)) return true;
      const p = parseTopic(topic);
      return p !== null && (uplink.includes(p.kind) || clients[p.lockerId] !== undefined);
    });
    // A locker's own subscriptions (exact topics, the only ones it may make) stay in this process; the server's
    // messages to lockers connected elsewhere reach every process through one pattern (redis-fleet.ts).
    await fleet.subscribeThroughPattern(`${TOPIC_ROOT}/*`, (topic) => parseTopic(topic) !== null);
  }
  if (fleet) fleet.mq.on(REVOKE_TOPIC, (message, done) => {
    closeLocal(String(message.payload));
    done();
  });
  aedes.on('clientError', (client, err) => log.debug({ lockerId: client.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
  // aedes reports here what fails outside any client, e.g. a sweep of a dead process's wills when Redis is gone
  // (unheard, an 'error' event would end the process); the next sweep tries again.
  (aedes as unknown as EventEmitter).on('error', (err: Error) => log.warn({ err: err.message }, 'mqtt broker error'));

  let tcp: Server | undefined;
  const handlers = new Limiter(256);
  const handle = (handler: (topic: string, payload: Buffer) => Promise<void>, topic: string, payload: Buffer) => {
    if (!handlers.hasRoom()) {
      // Overloaded: drop rather than grow without bound. Events come again (no ack went out).
      stats.reject('OVERLOADED');
      return;
    }
    handlers.run(() => handler(topic, payload)).catch((err: unknown) => log.error({ err, topic }, 'message handler failed'));
  };
  // Revoked (re-enrolment, retirement): closed if connected here, and its remembered key forgotten.
  const closeLocal = (lockerId: string) => {
    known.forget(lockerId);
    const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    clients[lockerId]?.close();
  };
  const link: BrokerLink = {
    publish(topic, payload, { qos, retain = false }) {
      return new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
      });
    },
    subscribe(filter, handler) {
      if (local) {
        local.add(filter, (topic, payload) => handle(handler, topic, payload));
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        aedes.subscribe(
          filter,
          (packet, cb) => {
            const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
            // Release aedes' delivery slot at once: a handler publishes (acks, snapshots) and would otherwise wait
            // for a slot held by another handler doing the same (aedes runs at most 100 deliveries at a time).
            // Our own limit keeps the number of handlers at work bounded instead. Released on the next turn:
            // released synchronously, aedes starts the next queued delivery inside this call, and a fleet
            // reconnecting at once recursed until the stack overflowed (docs/performance.md, storm).
            setImmediate(cb);
            handle(handler, packet.topic, payload);
          },
          resolve,
        );
      });
    },
  };

  let listening = false;
  return {
    link,
    start() {
      return new Promise((resolve, reject) => {
        // No Nagle: a locker gets two small packets per batch (the PUBACK, then the ack after the commit), and
        // holding the second until the first is acknowledged met the locker's delayed ACK: 40 ms per batch.
        // Every socket passes the transport limits first (wall time: they are about the network, not the
        // simulated clock); aedes reads only what the guard let through.
        const accept = connectionAcceptor(
          limits,
          systemClock,
          log,
          (socket, guard) => {
            guards.set(socket, guard);
            aedes.handle(socket);
          },
          (reason) => stats.connectionRefused(reason),
        );
        tcp = createServer({ noDelay: true }, accept);
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          listening = true;
          resolve(`mqtt://${host}:${(tcp?.address() as AddressInfo).port}`);
        });
      });
    },
    ready: () => listening,
    connectedClients: () => aedes.connectedClients,
    // Lockers sign in with tokens signed by their own key: nothing to hand out.
    provisionLocker: async (lockerId) => {
      known.forget(lockerId);
      return undefined;
    },
    async revokeLocker(lockerId) {
      // In a fleet the locker may be connected to another process: every process closes it if it has it.
      if (fleet) fleet.mq.emit({ topic: REVOKE_TOPIC, payload: Buffer.from(lockerId) });
      else closeLocal(lockerId);
    },
    async close() {
      listening = false;
      if (fleet) {
        // The persistence leaves the fleet through the emitter, which aedes.close() ends: so the lockers go first
        // (their wills are published as aedes.close() would), then the persistence, then aedes and its emitter.
        const clients = Object.values((aedes as unknown as { clients: Record<string, Client | undefined> }).clients);
        await Promise.all(clients.map((c) => new Promise<void>((resolve) => (c ? c.close(() => resolve()) : resolve()))));
        await fleet.close();
      }
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      if (tcp) {
        const server = tcp;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
