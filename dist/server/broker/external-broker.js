import os from 'node:os';
import mqtt, {} from 'mqtt';
import { Dynsec } from './dynsec.js';
import { Limiter } from './limiter.js';
/** The group every server process joins: the broker hands each device message to one of them. */
const SHARE_GROUP = 'lockstep';
const ONLINE_COUNT_EVERY_MS = 5000;
/** This process' name among several: INSTANCE_ID, else host name and process id. */
export function instanceIdOf(config) {
    return config.instanceId ?? `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40)}-${process.pid}`;
}
/** True when an MQTT topic matches a subscription filter (`+` one level, `#` the rest). */
export function topicMatches(filter, topic) {
    const f = filter.split('/');
    const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
        if (f[i] === '#')
            return true;
        if (i >= t.length || (f[i] !== '+' && f[i] !== t[i]))
            return false;
    }
    return f.length === t.length;
}
/**
 * An external broker (Mosquitto, EMQX) through one MQTT 5 client per server process. Device topics are
 * subscribed as shared subscriptions (`$share/lockstep/...`), so each device message reaches one process; the
 * session outlives a short disconnect or restart (clean: false, session expiry), so messages wait for it.
 * Without shared subscriptions (MQTT_SHARED_SUBSCRIPTIONS=off) every process gets every message: the handlers
 * are idempotent (events apply once by (locker, seq)), at the price of duplicated work.
 */
export async function createExternalBroker({ config, instanceId, db, stats, log }) {
    const url = config.mqttUrl;
    if (!url)
        throw new Error('createExternalBroker needs MQTT_URL');
    const shared = config.mqttSharedSubscriptions === 'on';
    const routes = [];
    const handlers = new Limiter(256);
    const options = {
        clientId: `lockstep-${instanceId}`,
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: config.mqttSessionExpirySec },
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        manualConnect: true,
        ...(config.mqttUsername ? { username: config.mqttUsername } : {}),
        ...(config.mqttPassword ? { password: config.mqttPassword } : {}),
    };
    const client = mqtt.connect(url, options);
    const dynsec = config.mqttDeviceAuth === 'dynsec' ? new Dynsec(client) : undefined;
    // Subscriptions wait for start(): the server's own role must be in place first (dynamic security).
    let started = false;
    const subscribeAll = async () => {
        for (const { filter } of routes)
            await client.subscribeAsync(shared ? `$share/${SHARE_GROUP}/${filter}` : filter, { qos: 1 });
    };
    client.on('connect', (connack) => {
        log.info({ sessionPresent: connack.sessionPresent }, 'connected to the MQTT broker');
        // A resumed session keeps its subscriptions; subscribing again is harmless and covers a lost session.
        if (started)
            subscribeAll().catch((err) => log.error({ err }, 'subscribing to device topics failed'));
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'MQTT broker connection error'));
    client.on('offline', () => log.warn('MQTT broker unreachable; reconnecting'));
    client.on('message', (topic, payload) => {
        const route = routes.find((r) => topicMatches(r.filter, topic));
        if (!route)
            return;
        if (!handlers.hasRoom()) {
            // Overloaded: drop rather than grow without bound. Devices send again (no application ack went out).
            stats.reject('OVERLOADED');
            return;
        }
        handlers.run(() => route.handler(topic, payload)).catch((err) => log.error({ err, topic }, 'message handler failed'));
    });
    const link = {
        async publish(topic, payload, { qos, retain = false }) {
            // Not queued while the broker is away (a request would hang on it): callers treat a failed publish as
            // "the next snapshot carries it", the database being the truth.
            if (!client.connected)
                throw new Error('MQTT broker not connected');
            await client.publishAsync(topic, payload, { qos, retain });
        },
        async subscribe(filter, handler) {
            routes.push({ filter, handler });
            if (started && client.connected)
                await client.subscribeAsync(shared ? `$share/${SHARE_GROUP}/${filter}` : filter, { qos: 1 });
        },
    };
    let online = 0;
    let lastCount = Number.NEGATIVE_INFINITY;
    const refreshOnline = () => {
        if (Date.now() - lastCount < ONLINE_COUNT_EVERY_MS)
            return;
        lastCount = Date.now();
        db.selectFrom('lockers')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('online', '=', 1)
            .executeTakeFirst()
            .then((r) => (online = Number(r?.n ?? 0)))
            .catch((err) => log.warn({ err }, 'online locker count not refreshed; the last count stays'));
    };
    return {
        link,
        async start() {
            await new Promise((resolve, reject) => {
                const onError = (err) => {
                    client.end(true);
                    reject(new Error(`cannot connect to the MQTT broker at ${url}: ${err.message}`, { cause: err }));
                };
                client.once('error', onError);
                client.once('connect', () => {
                    client.off('error', onError);
                    resolve();
                });
                client.connect();
            });
            if (dynsec) {
                await dynsec.listen();
                if (!config.mqttUsername)
                    throw new Error('MQTT_DEVICE_AUTH=dynsec needs MQTT_USERNAME and MQTT_PASSWORD (a dynamic-security admin)');
                await dynsec.ensureServerRole(config.mqttUsername);
            }
            started = true;
            await subscribeAll();
            refreshOnline();
            return config.mqttPublicUrl ?? url;
        },
        ready: () => client.connected,
        connectedClients() {
            refreshOnline();
            return online;
        },
        provisionLocker: async (lockerId) => (dynsec ? dynsec.provisionLocker(lockerId) : undefined),
        async revokeLocker(lockerId) {
            // With HTTP auth the broker asks us at each sign-in and each publish: a revoked key is refused from now on.
            if (dynsec)
                await dynsec.revokeLocker(lockerId);
        },
        async close() {
            dynsec?.close();
            await client.endAsync();
        },
    };
}
//# sourceMappingURL=external-broker.js.map