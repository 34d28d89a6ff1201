import { ConfigError, configFromEnv } from './config.js';
import { createServer } from './create-server.js';
import { createServerLogger } from './logger.js';

/** `npm start`: the whole backend in one process (SQLite and aedes by default; Postgres and an external broker when configured). */
async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Readable lines on a terminal in development; JSON lines otherwise (a service manager, a container, a pipe).
  const pretty = process.stdout.isTTY === true && process.env.NODE_ENV !== 'production';
  const server = await createServer(config, { logger: createServerLogger(config.logLevel, { pretty }) });
  const { httpUrl, mqttUrl } = await server.start();
  const lines = [
    '',
    'Lockstep is running.',
    `  API:     ${httpUrl}   (health: ${httpUrl}/healthz, keys: ${httpUrl}/.well-known/jwks.json)`,
    `  MQTT:    ${mqttUrl}   (${config.mqttUrl ? 'external broker from MQTT_URL' : 'embedded broker'}; each locker signs in with the credentials it got at enrolment)`,
    `  Data:    ${config.dataDir}${config.databaseUrl ? ' (secrets and keys; the database is Postgres from DATABASE_URL)' : ''}`,
  ];
  if (server.generatedAdminToken) {
    lines.push(
      `  Admin token (shown once, kept in ${config.dataDir}/secrets/admin-token):`,
      `    ${server.generatedAdminToken}`,
    );
  } else {
    lines.push(`  Admin token: ${config.adminToken ? 'from ADMIN_TOKEN' : `in ${config.dataDir}/secrets/admin-token`}`);
  }
  lines.push('  Use it as:  curl -H "Authorization: Bearer <token>" ' + `${httpUrl}/v1/lockers`, '');
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.ctx.log.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.ctx.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Lockstep failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
