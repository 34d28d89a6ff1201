import type { Static } from '@sinclair/typebox';
import { MAX_PAYLOAD_BYTES } from '../shared/protocol-version.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isIP } from 'node:net';
import path from 'node:path';
import { invalidAllowEntries } from './webhooks/address-policy.js';
import { ServerConfigSchema, type ServerConfig } from './config-schema.js';

const check = TypeCompiler.Compile(ServerConfigSchema);

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Environment variable for each setting, as documented in the README. */
const ENV: Record<keyof Static<typeof ServerConfigSchema>, string> = {
  port: 'PORT',
  mqttPort: 'MQTT_PORT',
  host: 'HOST',
  dataDir: 'DATA_DIR',
  adminToken: 'ADMIN_TOKEN',
  mqttPublicUrl: 'MQTT_PUBLIC_URL',
  logLevel: 'LOG_LEVEL',
  pinLength: 'PIN_LENGTH',
  pinAlphabet: 'PIN_ALPHABET',
  depositWindowSec: 'DEPOSIT_WINDOW_SEC',
  pickupWindowSec: 'PICKUP_WINDOW_SEC',
  clockToleranceSec: 'CLOCK_TOLERANCE_SEC',
  doorOpenTimeoutMs: 'DOOR_OPEN_TIMEOUT_MS',
  heartbeatMs: 'HEARTBEAT_MS',
  commandTtlSec: 'COMMAND_TTL_SEC',
  collectWindowSec: 'COLLECT_WINDOW_SEC',
  apiTokenTtlSec: 'API_TOKEN_TTL_SEC',
  rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
  rateLimitAdminPerMinute: 'RATE_LIMIT_ADMIN_PER_MINUTE',
  rateLimitAnonymousPerMinute: 'RATE_LIMIT_ANONYMOUS_PER_MINUTE',
  keyActivationGraceSec: 'KEY_ACTIVATION_GRACE_SEC',
  remoteOpenPerOperatorPerMinute: 'REMOTE_OPEN_PER_OPERATOR_PER_MINUTE',
  remoteOpenFleetPerMinute: 'REMOTE_OPEN_FLEET_PER_MINUTE',
  metricsToken: 'METRICS_TOKEN',
  livePushIntervalMs: 'LIVE_PUSH_INTERVAL_MS',
  webhookMaxAttempts: 'WEBHOOK_MAX_ATTEMPTS',
  webhookTimeoutMs: 'WEBHOOK_TIMEOUT_MS',
  webhookConcurrency: 'WEBHOOK_CONCURRENCY',
  webhookRetryBaseMs: 'WEBHOOK_RETRY_BASE_MS',
  webhookRetryMaxMs: 'WEBHOOK_RETRY_MAX_MS',
  webhookPollMs: 'WEBHOOK_POLL_MS',
  webhookRetentionSec: 'WEBHOOK_RETENTION_SEC',
  unlockAttempts: 'UNLOCK_ATTEMPTS',
  lowBatteryPct: 'LOW_BATTERY_PCT',
  depositSessionSec: 'DEPOSIT_SESSION_SEC',
  databaseUrl: 'DATABASE_URL',
  databasePoolSize: 'DATABASE_POOL_SIZE',
  mqttUrl: 'MQTT_URL',
  mqttUsername: 'MQTT_USERNAME',
  mqttPassword: 'MQTT_PASSWORD',
  mqttDeviceAuth: 'MQTT_DEVICE_AUTH',
  mqttSessionExpirySec: 'MQTT_SESSION_EXPIRY_SEC',
  mqttSharedSubscriptions: 'MQTT_SHARED_SUBSCRIPTIONS',
  instanceId: 'INSTANCE_ID',
  brokerHookToken: 'BROKER_HOOK_TOKEN',
  pickupRemindersSec: 'PICKUP_REMINDERS_SEC',
  extensionSec: 'EXTENSION_SEC',
  maxExtensions: 'MAX_EXTENSIONS',
  lockerOfflineAlarmSec: 'LOCKER_OFFLINE_ALARM_SEC',
  // Webhook SSRF (issue 17):
  webhookAllowPrivate: 'WEBHOOK_ALLOW_PRIVATE',
  // Security headers (issue 17, small findings).
  hstsMaxAgeSec: 'HSTS_MAX_AGE_SEC',
  // MQTT before sign-in
  mqttMaxPacketBytes: 'MQTT_MAX_PACKET_BYTES',
  mqttMaxConnectBytes: 'MQTT_MAX_CONNECT_BYTES',
  mqttSignInTimeoutMs: 'MQTT_SIGN_IN_TIMEOUT_MS',
  mqttConnectsPerAddressPer10s: 'MQTT_CONNECTS_PER_ADDRESS_PER_10S',
  mqttSignInsAtOnce: 'MQTT_SIGN_INS_AT_ONCE',
  mqttSignInsWaiting: 'MQTT_SIGN_INS_WAITING',
  mqttConnectLimitExempt: 'MQTT_CONNECT_LIMIT_EXEMPT',
  // Disk full and write failures (issue 17).
  storageProbeMs: 'STORAGE_PROBE_MS',
  // Remote opens and set_service (issue 17).
  remoteOpenMaxTtlSec: 'REMOTE_OPEN_MAX_TTL_SEC',
  remoteOpenLockersPerOperatorPerHour: 'REMOTE_OPEN_LOCKERS_PER_OPERATOR_PER_HOUR',
  remoteOpenQueuedPerOperator: 'REMOTE_OPEN_QUEUED_PER_OPERATOR',
  remoteOpenPendingPerOperator: 'REMOTE_OPEN_PENDING_PER_OPERATOR',
  remoteOpenOccupiedDailyAllowance: 'REMOTE_OPEN_OCCUPIED_DAILY_ALLOWANCE',
  remoteOpenOccupiedFleetPerHour: 'REMOTE_OPEN_OCCUPIED_FLEET_PER_HOUR',
  remoteOpenApprovalTtlSec: 'REMOTE_OPEN_APPROVAL_TTL_SEC',
  remoteOpenBurstWindowSec: 'REMOTE_OPEN_BURST_WINDOW_SEC',
  remoteOpenBurstPerOperator: 'REMOTE_OPEN_BURST_PER_OPERATOR',
  remoteOpenBurstFleet: 'REMOTE_OPEN_BURST_FLEET',
  setServicePerOperatorPerMinute: 'SET_SERVICE_PER_OPERATOR_PER_MINUTE',
  setServiceFleetPerMinute: 'SET_SERVICE_FLEET_PER_MINUTE',
  // Operator sign-in (issue 19).
  sessionIdleSec: 'SESSION_IDLE_SEC',
  sessionMaxSec: 'SESSION_MAX_SEC',
  sessionCookieSecure: 'SESSION_COOKIE_SECURE',
  signInMaxFailures: 'SIGN_IN_MAX_FAILURES',
  signInAddressMaxFailures: 'SIGN_IN_ADDRESS_MAX_FAILURES',
  signInLockoutSec: 'SIGN_IN_LOCKOUT_SEC',
  passwordScryptLogN: 'PASSWORD_SCRYPT_LOG_N',
  // Firmware, rollouts and remote diagnostics (issue 19).
  firmwarePublicKey: 'FIRMWARE_PUBLIC_KEY',
  firmwareMaxBytes: 'FIRMWARE_MAX_BYTES',
  firmwareResendSec: 'FIRMWARE_RESEND_SEC',
  // Scale (issue 18): several processes on one machine, their embedded brokers one fleet over Redis.
  redisUrl: 'REDIS_URL',
  fleetHeartbeatMs: 'FLEET_HEARTBEAT_MS',
  processes: 'LOCKSTEP_PROCESSES',
  // Dashboard map (cockpit, issue 19).
  dashboardTileUrl: 'DASHBOARD_TILE_URL',
  dashboardTileAttribution: 'DASHBOARD_TILE_ATTRIBUTION',
};

const CONFIG_DEFAULTS = {
  port: 8080,
  mqttPort: 1883,
  host: '127.0.0.1',
  dataDir: './data',
  logLevel: 'info',
  pinLength: 8,
  pinAlphabet: '0123456789',
  depositWindowSec: 72 * 3600,
  pickupWindowSec: 72 * 3600,
  clockToleranceSec: 300,
  doorOpenTimeoutMs: 30_000,
  heartbeatMs: 30_000,
  commandTtlSec: 300,
  collectWindowSec: 7 * 24 * 3600,
  apiTokenTtlSec: 90 * 24 * 3600,
  rateLimitPerMinute: 1200,
  rateLimitAdminPerMinute: 0,
  rateLimitAnonymousPerMinute: 60,
  keyActivationGraceSec: 7 * 24 * 3600,
  remoteOpenPerOperatorPerMinute: 10,
  remoteOpenFleetPerMinute: 60,
  livePushIntervalMs: 1000,
  webhookMaxAttempts: 8,
  webhookTimeoutMs: 5000,
  webhookConcurrency: 8,
  webhookRetryBaseMs: 10_000,
  webhookRetryMaxMs: 3_600_000,
  webhookPollMs: 1000,
  webhookRetentionSec: 30 * 24 * 3600,
  unlockAttempts: 2,
  lowBatteryPct: 20,
  depositSessionSec: 4 * 3600,
  databasePoolSize: 10,
  mqttDeviceAuth: 'dynsec',
  mqttSessionExpirySec: 300,
  mqttSharedSubscriptions: 'on',
  pickupRemindersSec: [24 * 3600] as number[],
  extensionSec: 24 * 3600,
  maxExtensions: 1,
  lockerOfflineAlarmSec: 900,
  // Webhook SSRF (issue 17):
  webhookAllowPrivate: [] as string[],
  // Security headers (issue 17, small findings).
  hstsMaxAgeSec: 0,
  // MQTT before sign-in: the protocol's 64 KiB payload limit plus 8 KiB for topic, ids and properties.
  mqttMaxPacketBytes: MAX_PAYLOAD_BYTES + 8192,
  mqttMaxConnectBytes: 4096,
  mqttSignInTimeoutMs: 10_000,
  mqttConnectsPerAddressPer10s: 20,
  // A check is two indexed look-ups and a signature, each look-up on one of the DATABASE_POOL_SIZE (10)
  // connections: 8 at once leave the event commits a connection during a storm. The line is also bounded by its
  // expected wait (half the sign-in timeout, sign-in-gate.ts); 2,000 caps it before any pace is known.
  mqttSignInsAtOnce: 8,
  mqttSignInsWaiting: 2000,
  // Loopback: the simulator, benches and a proxy on the same host (which hides client addresses anyway).
  mqttConnectLimitExempt: '127.0.0.1,::1',
  // Disk full and write failures (issue 17).
  storageProbeMs: 5000,
  // Remote opens and set_service (issue 17).
  remoteOpenMaxTtlSec: 600,
  remoteOpenLockersPerOperatorPerHour: 5,
  remoteOpenQueuedPerOperator: 5,
  remoteOpenPendingPerOperator: 5,
  remoteOpenOccupiedDailyAllowance: 3,
  remoteOpenOccupiedFleetPerHour: 10,
  remoteOpenApprovalTtlSec: 900,
  remoteOpenBurstWindowSec: 600,
  remoteOpenBurstPerOperator: 5,
  remoteOpenBurstFleet: 20,
  setServicePerOperatorPerMinute: 10,
  setServiceFleetPerMinute: 60,
  // Operator sign-in (issue 19).
  sessionIdleSec: 1800,
  sessionMaxSec: 12 * 3600,
  sessionCookieSecure: 'auto',
  signInMaxFailures: 5,
  signInAddressMaxFailures: 50,
  signInLockoutSec: 900,
  passwordScryptLogN: 15,
  // Firmware, rollouts and remote diagnostics (issue 19).
  firmwareMaxBytes: 16 * 1024 * 1024,
  firmwareResendSec: 60,
  // Scale (issue 18): aedes' own default.
  fleetHeartbeatMs: 60_000,
} as const;

const NUMERIC = new Set<string>([
  'port',
  'mqttPort',
  'pinLength',
  'depositWindowSec',
  'pickupWindowSec',
  'clockToleranceSec',
  'doorOpenTimeoutMs',
  'heartbeatMs',
  'fleetHeartbeatMs',
  'commandTtlSec',
  'collectWindowSec',
  'apiTokenTtlSec',
  'rateLimitPerMinute',
  'rateLimitAdminPerMinute',
  'rateLimitAnonymousPerMinute',
  'keyActivationGraceSec',
  'remoteOpenPerOperatorPerMinute',
  'remoteOpenFleetPerMinute',
  'livePushIntervalMs',
  'webhookMaxAttempts',
  'webhookTimeoutMs',
  'webhookConcurrency',
  'webhookRetryBaseMs',
  'webhookRetryMaxMs',
  'webhookPollMs',
  'webhookRetentionSec',
  'unlockAttempts',
  'lowBatteryPct',
  'depositSessionSec',
  'databasePoolSize',
  'mqttSessionExpirySec',
  'extensionSec',
  'maxExtensions',
  'lockerOfflineAlarmSec',
  // Security headers (issue 17, small findings).
  'hstsMaxAgeSec',
  // MQTT before sign-in
  'mqttMaxPacketBytes',
  'mqttMaxConnectBytes',
  'mqttSignInTimeoutMs',
  'mqttConnectsPerAddressPer10s',
  'mqttSignInsAtOnce',
  'mqttSignInsWaiting',
  // Disk full and write failures (issue 17).
  'storageProbeMs',
  // Remote opens and set_service (issue 17).
  'remoteOpenMaxTtlSec',
  'remoteOpenLockersPerOperatorPerHour',
  'remoteOpenQueuedPerOperator',
  'remoteOpenPendingPerOperator',
  'remoteOpenOccupiedDailyAllowance',
  'remoteOpenOccupiedFleetPerHour',
  'remoteOpenApprovalTtlSec',
  'remoteOpenBurstWindowSec',
  'remoteOpenBurstPerOperator',
  'remoteOpenBurstFleet',
  'setServicePerOperatorPerMinute',
  'setServiceFleetPerMinute',
  // Operator sign-in (issue 19).
  'sessionIdleSec',
  'sessionMaxSec',
  'signInMaxFailures',
  'signInAddressMaxFailures',
  'signInLockoutSec',
  'passwordScryptLogN',
  // Firmware, rollouts and remote diagnostics (issue 19).
  'firmwareMaxBytes',
  'firmwareResendSec',
  // Scale (issue 18).
  'processes',
]);

/** Settings given as a comma-separated list of integers ("0" = an empty list). */
const INTEGER_LISTS = new Set<string>(['pickupRemindersSec']);
/** Settings given as a comma-separated list of strings (webhook SSRF, issue 17). */
const STRING_LISTS = new Set<string>(['webhookAllowPrivate']);

/** Validates and freezes a configuration; overrides win over defaults. Throws ConfigError listing every problem. */
export function makeConfig(overrides: Partial<Static<typeof ServerConfigSchema>> = {}): ServerConfig {
  const merged = { ...CONFIG_DEFAULTS, ...stripUndefined(overrides) };
  if (!check.Check(merged)) {
    const problems = [...check.Errors(merged)].map((e) => {
      const key = e.path.slice(1).split('/')[0] as keyof typeof ENV;
      return `${ENV[key] ?? e.path}: ${e.message}`;
    });
    throw new ConfigError(problems.length ? problems : ['invalid']);
  }
  if (new Set(merged.pinAlphabet).size !== merged.pinAlphabet.length) throw new ConfigError(['PIN_ALPHABET: symbols must be distinct']);
  // Webhook SSRF (issue 17):
  const badRanges = invalidAllowEntries(merged.webhookAllowPrivate);
  if (badRanges.length) throw new ConfigError([`WEBHOOK_ALLOW_PRIVATE: not CIDR ranges (a.b.c.d/n or v6/n, host bits zero): ${badRanges.join(', ')}`]);
  const notIp = merged.mqttConnectLimitExempt.trim() === 'none' ? [] : merged.mqttConnectLimitExempt.split(',').map((a) => a.trim()).filter((a) => a !== '' && isIP(a) === 0);
  if (notIp.length) throw new ConfigError([`MQTT_CONNECT_LIMIT_EXEMPT: not IP addresses: ${notIp.join(', ')}`]);
  // Scale (issue 18): Redis joins the embedded brokers; with an external broker it would do nothing.
  if (merged.redisUrl && merged.mqttUrl) throw new ConfigError(['REDIS_URL: joins the embedded brokers into one fleet; it cannot be used with MQTT_URL (an external broker)']);
  return Object.freeze({ ...merged, dataDir: path.resolve(merged.dataDir) });
}

/** Reads the configuration from environment variables once, at start. */
export function configFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (STRING_LISTS.has(key)) {
      raw[key] = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
    } else if (INTEGER_LISTS.has(key)) {
      const items = value.split(',').map((v) => v.trim());
      if (!items.every((v) => /^\d+$/.test(v))) {
        problems.push(`${name}: expected comma-separated integers, got "${value}"`);
        continue;
      }
      raw[key] = items.map(Number).filter((n) => n !== 0);
    } else if (NUMERIC.has(key)) {
      if (!/^-?\d+$/.test(value.trim())) {
        problems.push(`${name}: expected an integer, got "${value}"`);
        continue;
      }
      raw[key] = Number(value);
    } else {
      raw[key] = value;
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return makeConfig(raw as Partial<Static<typeof ServerConfigSchema>>);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
