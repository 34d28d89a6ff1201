import type { ServerConfig } from '../config-schema.js';

/** How many server processes to run and what stops them sharing the work (empty: nothing). */
export interface ClusterPlan {
  processes: number;
  problems: string[];
}

/**
 * Several processes on one machine share the ports (Node's cluster module), so they must share everything else:
 * one database they can all write (Postgres; a SQLite file belongs to one process: its scheduler always holds the
 * lease) and one broker fleet (REDIS_URL joins their embedded brokers; or an external broker, MQTT_URL).
 */
export function planCluster(config: ServerConfig, cores: number): ClusterPlan {
  const processes = config.processes ?? Math.max(1, cores);
  const problems: string[] = [];
  if (processes > 1 && !config.databaseUrl) problems.push(`LOCKSTEP_PROCESSES: ${processes} processes need a shared database: set DATABASE_URL (Postgres)`);
  if (processes > 1 && !config.redisUrl && !config.mqttUrl) problems.push(`LOCKSTEP_PROCESSES: ${processes} processes need one broker fleet: set REDIS_URL (or MQTT_URL for an external broker)`);
  return { processes, problems };
}
