import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import { deviceMayPublish, deviceMaySubscribe, isStatusTopic } from '../../shared/topics.js';
import { Limiter } from './limiter.js';
import { checkBrokerPassword } from './device-auth.js';
import { indexedMemoryPersistence } from './retained-index.js';
import { systemClock } from '../../shared/clock.js';
import { connectionAcceptor } from './transport-limits.js';
function authError(code) {
    return Object.assign(new Error(code === 4 ? 'bad username or password' : 'not authorized'), { returnCode: code });
}
/**
 * The in-process aedes broker. Every client is a locker that proves itself with its own secret; client id =
 * username = locker id; each locker may use only its own topics, by exact name. The server itself talks to the
 * broker in process (no client, no credentials to leak).
 */
export async function createEmbeddedBroker({ db, stats, log, clock, host, port, limits }) {
    // Each connection's guard, told when its client signed in (keyed by the socket aedes knows as client.conn).
    const guards = new WeakMap();
    const aedes = await Aedes.createBroker({
        persistence: indexedMemoryPersistence(),
        authenticate(client, username, password, done) {
            if (!username || username !== client.id || !password) {
                stats.authFailures++;
                done(authError(4), false);
                return;
            }
            checkBrokerPassword(db, username, password, clock.now()).then((verdict) => {
                const ok = verdict === 'OK';
                if (ok)
                    guards.get(client.conn)?.signedIn();
                if (!ok) {
                    stats.authFailures++;
                    log.warn({ lockerId: username, verdict }, 'broker sign-in refused');
                }
                done(ok ? null : authError(4), ok);
            }, (err) => {
                log.error({ err }, 'broker authentication failed');
                done(authError(5), false);
            });
        },
        authorizePublish(client, packet, done) {
            if (client === null)
                return done(null);
            const ok = deviceMayPublish(client.id, packet.topic) && (!packet.retain || isStatusTopic(packet.topic));
            if (!ok) {
                stats.aclDenied++;
                log.warn({ lockerId: client.id, topic: packet.topic.slice(0, 200) }, 'publish denied');
            }
            done(ok ? null : new Error('publish not authorized'));
        },
        authorizeSubscribe(client, sub, done) {
            if (deviceMaySubscribe(client.id, sub.topic))
                return done(null, sub);
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
    await new Promise((resolve) => aedes.subscribe('#', (_packet, cb) => setImmediate(cb), resolve));
    aedes.on('clientError', (client, err) => log.debug({ lockerId: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
    let tcp;
    const handlers = new Limiter(256);
    const link = {
        publish(topic, payload, { qos, retain = false }) {
            return new Promise((resolve, reject) => {
                aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
            });
        },
        subscribe(filter, handler) {
            return new Promise((resolve) => {
                aedes.subscribe(filter, (packet, cb) => {
                    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
                    // Release aedes' delivery slot at once: a handler publishes (acks, snapshots) and would otherwise wait
                    // for a slot held by another handler doing the same (aedes runs at most 100 deliveries at a time).
                    // Our own limit keeps the number of handlers at work bounded instead. Released on the next turn:
                    // released synchronously, aedes starts the next queued delivery inside this call, and a fleet
                    // reconnecting at once recursed until the stack overflowed (docs/performance.md, storm).
                    setImmediate(cb);
                    if (!handlers.hasRoom()) {
                        // Overloaded: drop rather than grow without bound. Events come again (no ack went out).
                        stats.reject('OVERLOADED');
                        return;
                    }
                    handlers
                        .run(() => handler(packet.topic, payload))
                        .catch((err) => log.error({ err, topic: packet.topic }, 'message handler failed'));
                }, resolve);
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
                tcp = createServer({ noDelay: true }, connectionAcceptor(limits, systemClock, log, (socket, guard) => {
                    guards.set(socket, guard);
                    aedes.handle(socket);
                }));
                tcp.once('error', reject);
                tcp.listen(port, host, () => {
                    listening = true;
                    resolve(`mqtt://${host}:${(tcp?.address()).port}`);
                });
            });
        },
        ready: () => listening,
        connectedClients: () => aedes.connectedClients,
        // Lockers sign in with tokens signed by their own key: nothing to hand out.
        provisionLocker: async () => undefined,
        async revokeLocker(lockerId) {
            const clients = aedes.clients;
            clients[lockerId]?.close();
        },
        async close() {
            listening = false;
            await new Promise((resolve) => aedes.close(() => resolve()));
            if (tcp) {
                const server = tcp;
                await new Promise((resolve) => server.close(() => resolve()));
            }
        },
    };
}
//# sourceMappingURL=embedded-broker.js.map