import cluster from 'node:cluster';
import os from 'node:os';
import { ConfigError, configFromEnv } from '../config.js';
import { planCluster } from './cluster-plan.js';
import { runPrimary } from './primary.js';
import { runWorker } from './worker.js';

/**
 * `npm run start:cluster`: LOCKSTEP_PROCESSES server processes (default one per core) sharing PORT and MQTT_PORT,
 * on one Postgres (DATABASE_URL) and one broker fleet (REDIS_URL). `npm start` stays one process. docs/scale.md.
 */
function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv(process.env);
    const plan = planCluster(config, os.availableParallelism());
    if (plan.problems.length) throw new ConfigError(plan.problems);
    if (cluster.isPrimary) return runPrimary(config, plan.processes);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  return runWorker(config, (report) => process.send?.(report));
}

main().catch((err: unknown) => {
  process.stderr.write(`Lockstep failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
