import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { BrokerLink } from './broker/link.js';
import type { ChangeBus } from './change-bus.js';
import type { ServerConfig } from './config-schema.js';
import type { SigningKeys } from './keys/signing-keys.js';
import type { ServerStats } from './stats.js';
import type { Db } from './store/database.js';
import type { StorageHealth } from './store/storage-health.js';
import type { Writers } from './writers.js';

/** What the domain and the shells need, passed down explicitly. */
export interface ServerContext {
  readonly config: ServerConfig;
  /** This process' name among several sharing one database and broker (leases, MQTT client id). */
  readonly instanceId: string;
  readonly clock: Clock;
  readonly db: Db;
  readonly keys: SigningKeys;
  /** Secret behind every PIN and locker PIN key. Never logged. */
  readonly pinSecret: Buffer;
  readonly link: BrokerLink;
  readonly log: Logger;
  readonly stats: ServerStats;
  /** What changed, after commit (the dashboard's live stream and the metrics listen). */
  readonly bus: ChangeBus;
  /** The group-commit queues (heartbeats, statuses, reports, event batches, bookings), built once by createServer. */
  readonly writers: Writers;
  /** Whether writes commit (set by a storage failure, cleared by the next committed write); /readyz reads it. */
  readonly storage: StorageHealth;
}
