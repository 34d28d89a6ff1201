import cluster, { type Worker } from 'node:cluster';
import type { ServerConfig } from '../config-schema.js';
import type { WorkerOrder, WorkerReport } from './worker.js';

/** More crashes than this within CRASH_WINDOW_MS and the primary gives up (a worker that cannot start). */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1000;
/** A worker that has not stopped this long after it was told to is killed. */
const STOP_GRACE_MS = 15_000;

const write = (line: string) => process.stdout.write(`${line}\n`);

/**
 * The cluster's primary: starts the workers (the first alone: it makes the shared secrets and runs the migrations,
 * then the others side by side), restarts one that dies, and stops them all on SIGTERM / SIGINT. It serves nothing
 * itself; the cluster module's round-robin hands each new connection (HTTP or MQTT) to the next worker.
 */
export async function runPrimary(config: ServerConfig, processes: number): Promise<void> {
  let stopping = false;
  const crashes: number[] = [];
  const live = new Set<Worker>();

  const fork = (index: number): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ LOCKSTEP_WORKER: String(index) });
      live.add(worker);
      worker.on('message', (report: WorkerReport) => {
        if (report.kind === 'failed') reject(new Error(`worker ${index} failed to start: ${report.message}`));
        if (report.kind !== 'ready') return;
        if (report.generatedAdminToken) write(`  Admin token (shown once, kept in ${config.dataDir}/secrets/admin-token):\n    ${report.generatedAdminToken}`);
        if (index === 0) write(`  API:  ${report.httpUrl}   MQTT: ${report.mqttUrl}   (shared by every process)`);
        write(`  process ${index} ready (pid ${worker.process.pid})`);
        resolve(worker);
      });
      worker.on('exit', (code, signal) => {
        live.delete(worker);
        reject(new Error(`worker ${index} exited (${signal ?? code}) before it was ready`));
        if (stopping) return;
        const now = Date.now();
        crashes.push(now);
        while (crashes.length && (crashes[0] ?? now) < now - CRASH_WINDOW_MS) crashes.shift();
        if (crashes.length > MAX_CRASHES) {
          process.stderr.write(`Lockstep cluster: ${crashes.length} worker crashes within ${CRASH_WINDOW_MS / 1000} s, stopping\n`);
          void stopAll(1);
          return;
        }
        process.stderr.write(`Lockstep cluster: process ${index} (pid ${worker.process.pid}) exited (${signal ?? code}); restarting it\n`);
        setTimeout(() => fork(index).catch((err: unknown) => process.stderr.write(`${String(err)}\n`)), RESTART_DELAY_MS);
      });
    });

  const stopAll = async (exitCode: number) => {
    stopping = true;
    const exits = [...live].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      const order: WorkerOrder = { kind: 'stop' };
      if (w.isConnected()) w.send(order);
      setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS).unref();
    }));
    await Promise.all(exits);
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  write(`\nLockstep is starting ${processes} server process${processes === 1 ? '' : 'es'} on shared ports.`);
  try {
    await fork(0);
    await Promise.all(Array.from({ length: processes - 1 }, (_, i) => fork(i + 1)));
  } catch (err) {
    process.stderr.write(`Lockstep cluster failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll(1);
    return;
  }
  write(`Lockstep is running: ${processes} processes.`);
}
