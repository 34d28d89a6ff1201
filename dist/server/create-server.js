import { systemClock } from '../shared/clock.js';
import { prepareDataDir } from './data-dir.js';
import { AccessTokens } from './accounts/access-tokens.js';
import { makeAuthenticator } from './accounts/authenticator.js';
import { BootstrapToken } from './accounts/bootstrap-token.js';
import { accountRoutes } from './accounts/account-routes.js';
import { createEmbeddedBroker } from './broker/embedded-broker.js';
import { transportLimits } from './broker/transport-limits.js';
import { createExternalBroker, instanceIdOf } from './broker/external-broker.js';
import { brokerRoutes } from './broker/broker-routes.js';
import { ChangeBus } from './change-bus.js';
import { LiveHub } from './dashboard/live-hub.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { ServerMetrics } from './metrics/metrics.js';
import { metricsRoutes, metricsTokenMatcher } from './metrics/metrics-routes.js';
import { createHttpApp } from './http/app.js';
import { SigningKeys } from './keys/signing-keys.js';
import { keyRoutes } from './keys/key-routes.js';
import { auditRoutes } from './audit/audit-routes.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';
import { startWebhookWorker } from './webhooks/delivery-worker.js';
import { lockerRoutes } from './lockers/locker-routes.js';
import { enrolmentRoutes } from './enrolment/enrolment-routes.js';
import { parcelRoutes } from './parcels/parcel-routes.js';
import { alarmRoutes } from './alarms/alarm-routes.js';
import { commandRoutes } from './commands/command-routes.js';
import { startScheduler } from './scheduler.js';
import { ServerStats } from './stats.js';
import { describeTarget, openDatabase } from './store/database.js';
import { probeWrite, StorageHealth, storageWatcher } from './store/storage-health.js';
import { subscribeDeviceTopics } from './sync/device-router.js';
import { createWriters } from './writers.js';
// deploy: logger setup, domain-event log lines
import { createServerLogger } from './logger.js';
/** Builds the whole backend (database, keys, broker, API) from a validated config. */
export async function createServer(config, options = {}) {
    const clock = options.clock ?? systemClock;
    const log = options.logger ?? createServerLogger(config.logLevel);
    const secrets = prepareDataDir(config.dataDir, config.adminToken);
    const metrics = new ServerMetrics();
    const target = config.databaseUrl
        ? { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize, onPoolError: (err) => log.warn({ err: err.message }, 'database connection lost') }
        : { kind: 'sqlite', file: secrets.databaseFile };
    // Every failed statement and committed write reaches the storage health (disk full, read-only: /readyz, 503s).
    const storage = new StorageHealth(log, clock, config.storageProbeMs);
    const db = (await openDatabase(target, storageWatcher(storage, log))).withPlugin(metrics.queryTimer());
    storage.setProbe(() => probeWrite(db, clock.now()));
    log.info({ database: describeTarget(target) }, 'database ready');
    const keys = await SigningKeys.load(secrets.keysDir, db, clock.now());
    const stats = new ServerStats();
    const instanceId = instanceIdOf(config);
    // MQTT_URL: an external broker (several server processes share it); otherwise aedes in this process.
    const broker = config.mqttUrl
        ? await createExternalBroker({ config, db, stats, log, instanceId })
        : await createEmbeddedBroker({ db, stats, log, clock, host: config.host, port: config.mqttPort, limits: transportLimits(config) });
    const bus = new ChangeBus(log);
    // The writers run with this context (a group of device writes needs its clock, config and keys) once it exists.
    const writers = createWriters({ db, log, stats }, () => ctx);
    const ctx = { config, instanceId, clock, db, keys, pinSecret: secrets.pinSecret, link: metrics.countingLink(broker.link), log, stats, bus, writers, storage };
    const live = new LiveHub({ db, bus, log, now: () => clock.now(), intervalMs: config.livePushIntervalMs });
    metrics.bind({ db, stats, bus, log, connectedLockers: () => broker.connectedClients(), liveSubscribers: () => live.subscriberCount });
    let mqttUrl = config.mqttPublicUrl ?? `mqtt://${config.host}:${config.mqttPort}`;
    const bootstrap = new BootstrapToken(secrets.adminToken, secrets.adminTokenFile);
    const tokens = new AccessTokens(secrets.apiTokenSecret, clock, config.apiTokenTtlSec);
    const app = await createHttpApp({
        log,
        clock,
        authenticate: makeAuthenticator({ db, clock, tokens, bootstrap }),
        rateLimits: {
            perMinute: config.rateLimitPerMinute,
            adminPerMinute: config.rateLimitAdminPerMinute,
            anonymousPerMinute: config.rateLimitAnonymousPerMinute,
        },
        isMetricsToken: metricsTokenMatcher(config.metricsToken),
        observeRequest: (labels, seconds) => metrics.httpDuration.observe(labels, seconds),
        securityHeaders: { hstsMaxAgeSec: config.hstsMaxAgeSec },
    });
    // Every route module is a plugin of one shape, given the same deps (server/http/route-plugin.ts).
    const routeDeps = { ctx, tokens, bootstrap, live, metrics, mqttUrl: () => mqttUrl, lockerAccess: broker, brokerListening: () => broker.ready() };
    const routePlugins = [
        metricsRoutes,
        keyRoutes,
        accountRoutes,
        lockerRoutes,
        enrolmentRoutes,
        parcelRoutes,
        commandRoutes,
        alarmRoutes,
        dashboardRoutes,
        auditRoutes,
        webhookRoutes,
        brokerRoutes,
    ];
    for (const plugin of routePlugins)
        await app.register(plugin, routeDeps);
    await subscribeDeviceTopics(ctx);
    let scheduler;
    let webhookWorker;
    const notStarted = () => Promise.reject(new Error('the server is not started'));
    return {
        ctx,
        app,
        stats,
        get adminToken() {
            return bootstrap.current;
        },
        generatedAdminToken: secrets.adminTokenGenerated ? secrets.adminToken : undefined,
        async start() {
            const brokerUrl = await broker.start();
            if (!config.mqttPublicUrl)
                mqttUrl = brokerUrl;
            await app.listen({ port: config.port, host: config.host });
            scheduler = startScheduler(ctx);
            webhookWorker = startWebhookWorker(ctx);
            const { port } = app.server.address();
            return { httpUrl: `http://${config.host}:${port}`, mqttUrl };
        },
        scheduler: { runOnce: () => scheduler?.runOnce() ?? notStarted() },
        webhookWorker: { runOnce: () => webhookWorker?.runOnce() ?? notStarted() },
        connectedLockers: () => broker.connectedClients(),
        async stop() {
            storage.close();
            await scheduler?.stop();
            await webhookWorker?.stop();
            live.close();
            // Live streams end in preClose. A connection a browser opened and never used would hold the close until its
            // headers timeout (60 s): after a short grace for requests in flight, the remaining ones are closed.
            const force = setTimeout(() => app.server.closeAllConnections(), 3000);
            await app.close();
            clearTimeout(force);
            await broker.close();
            metrics.close();
            await db.destroy();
        },
    };
}
//# sourceMappingURL=create-server.js.map