import type { ServerConfig } from '../config-schema.js';
import { createServer } from '../create-server.js';

/** What a worker tells the primary. */
export type WorkerReport =
  | { kind: 'ready'; httpUrl: string; mqttUrl: string; generatedAdminToken?: string }
  | { kind: 'failed'; message: string };

/** What the primary tells a worker. */
export interface WorkerOrder {
  kind: 'stop';
}

/**
 * One server process of the cluster: the whole backend, as `npm start` runs it, with its listeners shared by the
 * cluster module (every worker's listen() on the same port is one socket the primary hands connections from).
 */
export async function runWorker(config: ServerConfig, send: (report: WorkerReport) => void): Promise<void> {
  let server;
  try {
    server = await createServer(config);
    const { httpUrl, mqttUrl } = await server.start();
    send({ kind: 'ready', httpUrl, mqttUrl, ...(server.generatedAdminToken ? { generatedAdminToken: server.generatedAdminToken } : {}) });
  } catch (err) {
    send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  const running = server;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    running.ctx.log.info({ why }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        running.ctx.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('message', (order: WorkerOrder) => {
    if (order.kind === 'stop') stop('primary');
  });
  // The primary stops its workers itself: a signal to the whole process group (Ctrl-C) must not race it.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Orphaned (the primary died): nothing would hand this process connections any more.
  process.on('disconnect', () => stop('primary gone'));
}
