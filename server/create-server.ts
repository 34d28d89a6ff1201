import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../shared/clock.js';
import type { ServerConfig } from './config-schema.js';
import type { ServerContext } from './context.js';
import { prepareDataDir } from './data-dir.js';
import { AccessTokens } from './accounts/access-tokens.js';
import { makeAuthenticator } from './accounts/authenticator.js';
import { BootstrapToken } from './accounts/bootstrap-token.js';
import { accountRoutes } from './accounts/account-routes.js';
import { createEmbeddedBroker } from './broker/embedded-broker.js';
import { transportLimits } from './broker/transport-limits.js';
import { createExternalBroker, instanceIdOf } from './broker/external-broker.js';
import { brokerRoutes } from './broker/broker-routes.js';
import { openBrokerFleet } from './broker/redis-fleet.js';
import type { ServerBroker } from './broker/link.js';
import { ChangeBus } from './change-bus.js';
import { LiveHub } from './dashboard/live-hub.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { historyRoutes } from './history/history-routes.js';
import { ServerMetrics } from './metrics/metrics.js';
import { metricsRoutes, metricsTokenMatcher } from './metrics/metrics-routes.js';
import { createHttpApp, type App } from './http/app.js';
import type { RouteDeps, RoutePlugin } from './http/route-plugin.js';
import { SigningKeys } from './keys/signing-keys.js';
import { keyRoutes } from './keys/key-routes.js';
import { auditRoutes } from './audit/audit-routes.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';
import { startWebhookWorker, type WebhookWorker } from './webhooks/delivery-worker.js';
import { lockerRoutes } from './lockers/locker-routes.js';
import { enrolmentRoutes } from './enrolment/enrolment-routes.js';
import { parcelRoutes } from './parcels/parcel-routes.js';
import { alarmRoutes } from './alarms/alarm-routes.js';
import { commandRoutes } from './commands/command-routes.js';
// Firmware, rollouts and remote diagnostics (issue 19):
import { firmwareRoutes } from './firmware/firmware-routes.js';
import { diagnosticsRoutes } from './diagnostics/diagnostics-routes.js';
import { startScheduler, type SchedulerHandle } from './scheduler.js';
import { ServerStats } from './stats.js';
import { describeTarget, openDatabase, type DatabaseTarget } from './store/database.js';
import { probeWrite, StorageHealth, storageWatcher } from './store/storage-health.js';
import { subscribeDeviceTopics } from './sync/device-router.js';
import { createWriters } from './writers.js';
// Integrators (issue 16, api).
import { idempotencyPlugin } from './http/idempotency.js';
import { retireRoutes } from './lockers/retire-routes.js';
import { openapiPlugin } from './http/openapi.js';
import { SERVER_VERSION } from './http/server-version.js';
// Operator sign-in (issue 19).
import { SignIn } from './accounts/sign-in.js';
import { sessionRoutes } from './accounts/session-routes.js';
import { accountSignInRoutes } from './accounts/account-sign-in-routes.js';
// deploy: logger setup, domain-event log lines
import { createServerLogger } from './logger.js';
import { logDomainEvents } from './domain-log.js';

export interface ServerOptions {
  clock?: Clock;
  logger?: Logger;
}

export interface LockstepServer {
  readonly ctx: ServerContext;
  readonly app: App;
  readonly stats: ServerStats;
  /** Set when this start generated the admin token (print it once). */
  readonly generatedAdminToken: string | undefined;
  /** The bootstrap admin token in force (it changes when rotated through the API). */
  readonly adminToken: string;
  /** Starts both listeners; returns where they listen. */
  start(): Promise<{ httpUrl: string; mqttUrl: string }>;
  /** The periodic jobs and the webhook outbox, one round each on demand (tests drive them with the injected clock); after start(). */
  readonly scheduler: Pick<SchedulerHandle, 'runOnce'>;
  readonly webhookWorker: Pick<WebhookWorker, 'runOnce'>;
  connectedLockers(): number;
  stop(): Promise<void>;
}

/** Builds the whole backend (database, keys, broker, API) from a validated config. */
export async function createServer(config: ServerConfig, options: ServerOptions = {}): Promise<LockstepServer> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createServerLogger(config.logLevel);
  const secrets = prepareDataDir(config.dataDir, config.adminToken);
  const metrics = new ServerMetrics();
  const target: DatabaseTarget = config.databaseUrl
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
  // Scale (issue 18): REDIS_URL joins this process's broker to the others' (docs/scale.md).
  const fleet = !config.mqttUrl && config.redisUrl ? openBrokerFleet(config.redisUrl, log, config.fleetHeartbeatMs) : undefined;
  const broker: ServerBroker = config.mqttUrl
    ? await createExternalBroker({ config, db, stats, log, instanceId })
    : await createEmbeddedBroker({ db, stats, log, clock, host: config.host, port: config.mqttPort, limits: transportLimits(config), ...(fleet ? { fleet } : {}) });
  const bus = new ChangeBus(log);
  // deploy: one info line per domain event (parcel deposited, alarm raised, locker offline, command done, ...).
  const offDomainLog = logDomainEvents(bus, log);
  // The writers run with this context (a group of device writes needs its clock, config and keys) once it exists.
  const writers = createWriters({ db, log, stats }, () => ctx);
  const ctx: ServerContext = { config, instanceId, clock, db, keys, pinSecret: secrets.pinSecret, link: metrics.countingLink(broker.link), log, stats, bus, writers, storage };
  const live = new LiveHub({ db, bus, log, now: () => clock.now(), intervalMs: config.livePushIntervalMs });
  metrics.bind({ db, stats, bus, log, connectedLockers: () => broker.connectedClients(), liveSubscribers: () => live.subscriberCount, ...(fleet ? { fleetRouted: () => fleet.routed } : {}) });

  let mqttUrl = config.mqttPublicUrl ?? `mqtt://${config.host}:${config.mqttPort}`;
  const bootstrap = new BootstrapToken(secrets.adminToken, secrets.adminTokenFile);
  const tokens = new AccessTokens(secrets.apiTokenSecret, clock, config.apiTokenTtlSec);
  // Operator sign-in (issue 19): password sessions in cookies beside bearer tokens.
  const signIn = new SignIn({ db, clock, config, rootSecret: secrets.apiTokenSecret });
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
    sessions: signIn.sessions,
  });
  // Idempotency-Key on every authenticated POST (issue 16, api): hooks on the root app, before the routes.
  await app.register(idempotencyPlugin, { db, clock });
  // OpenAPI at /openapi.json and the API page at /docs (issue 16, api): before the routes, so it sees them all.
  await app.register(openapiPlugin, { version: SERVER_VERSION });
  // Every route module is a plugin of one shape, given the same deps (server/http/route-plugin.ts).
  const routeDeps: RouteDeps = { ctx, tokens, bootstrap, live, metrics, mqttUrl: () => mqttUrl, lockerAccess: broker, brokerListening: () => broker.ready(), signIn };
  const routePlugins: RoutePlugin[] = [
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
    // Integrators (issue 16, api).
    retireRoutes,
    // Operator sign-in (issue 19).
    sessionRoutes,
    accountSignInRoutes,
    // Firmware, rollouts and remote diagnostics (issue 19):
    firmwareRoutes,
    diagnosticsRoutes,
    // History for charts (cockpit):
    historyRoutes,
  ];
  for (const plugin of routePlugins) await app.register(plugin, routeDeps);
  await subscribeDeviceTopics(ctx);
  let scheduler: SchedulerHandle | undefined;
  let webhookWorker: WebhookWorker | undefined;
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
      if (!config.mqttPublicUrl) mqttUrl = brokerUrl;
      await app.listen({ port: config.port, host: config.host });
      scheduler = startScheduler(ctx);
      webhookWorker = startWebhookWorker(ctx);
      const { port } = app.server.address() as AddressInfo;
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
      offDomainLog();
      await db.destroy();
    },
  };
}
