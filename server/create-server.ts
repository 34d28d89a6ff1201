import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from '../shared/clock.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { prepareDataDir } from './data-dir.js';
import { createEmbeddedBroker } from './broker/embedded-broker.js';
import { createHttpApp, type App } from './http/app.js';
import { systemRoutes } from './http/system-routes.js';
import { SigningKeys } from './keys/signing-keys.js';
import { lockerRoutes } from './lockers/routes.js';
import { parcelRoutes } from './parcels/routes.js';
import { ServerStats } from './stats.js';
import { openDatabase } from './store/database.js';
import { subscribeDeviceTopics } from './sync/device-router.js';

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
  readonly adminToken: string;
  /** Starts both listeners; returns where they listen. */
  start(): Promise<{ httpUrl: string; mqttUrl: string }>;
  connectedLockers(): number;
  stop(): Promise<void>;
}

/** Builds the whole backend (database, keys, broker, API) from a validated config. */
export async function createServer(config: ServerConfig, options: ServerOptions = {}): Promise<LockstepServer> {
  const clock = options.clock ?? systemClock;
  const log =
    options.logger ??
    pino({
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'password', '*.password', 'pin', '*.pin'], censor: '[redacted]' },
    });
  const secrets = prepareDataDir(config.dataDir, config.adminToken);
  const db = await openDatabase(secrets.databaseFile);
  const keys = await SigningKeys.load(secrets.keysDir, clock.now());
  const stats = new ServerStats();
  const broker = await createEmbeddedBroker({ db, stats, log });
  const ctx: ServerContext = { config, clock, db, keys, pinSecret: secrets.pinSecret, link: broker.link, log, stats };

  let mqttUrl = config.mqttPublicUrl ?? `mqtt://${config.host}:${config.mqttPort}`;
  const app = createHttpApp(log, secrets.adminToken);
  systemRoutes(app, ctx);
  lockerRoutes(app, ctx, () => mqttUrl);
  parcelRoutes(app, ctx);
  await subscribeDeviceTopics(ctx);

  return {
    ctx,
    app,
    stats,
    adminToken: secrets.adminToken,
    generatedAdminToken: secrets.adminTokenGenerated ? secrets.adminToken : undefined,
    async start() {
      const mqttPort = await broker.listen(config.host, config.mqttPort);
      if (!config.mqttPublicUrl) mqttUrl = `mqtt://${config.host}:${mqttPort}`;
      await app.listen({ port: config.port, host: config.host });
      const { port } = app.server.address() as AddressInfo;
      return { httpUrl: `http://${config.host}:${port}`, mqttUrl };
    },
    connectedLockers: () => broker.connectedClients(),
    async stop() {
      await app.close();
      await broker.close();
      await db.destroy();
    },
  };
}
