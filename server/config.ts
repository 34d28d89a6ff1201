import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isIP } from 'node:net';
import path from 'node:path';
import { invalidAllowEntries } from './webhooks/address-policy.js';
import { MAX_PAYLOAD_BYTES } from '../shared/protocol-version.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ServerConfigSchema = Type.Object(
  {
    /** HTTP port (0 picks a free one). */
    port: Port,
    /** MQTT (TCP) port of the embedded broker (0 picks a free one). */
    mqttPort: Port,
    /** Address both listeners bind to. */
    host: Type.String({ minLength: 1 }),
    /** Folder for the database, keys and secrets; created on first start. */
    dataDir: Type.String({ minLength: 1 }),
    /** Bootstrap admin bearer token; when absent one is generated and kept in the data folder. */
    adminToken: Type.Optional(Type.String({ minLength: 32, maxLength: 512 })),
    /** MQTT URL handed to devices; defaults to mqtt://host:mqttPort. */
    mqttPublicUrl: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    pinLength: Type.Integer({ minimum: 6, maximum: 12 }),
    /** Symbols a PIN is made of (digits by default, which every keypad has); distinct, from 0-9 and A-Z. */
    pinAlphabet: Type.String({ pattern: '^[0-9A-Z]{2,36}$' }),
    /** How long a booked compartment waits for the deposit. */
    depositWindowSec: Type.Integer({ minimum: 60 }),
    /** How long the recipient has after the deposit. */
    pickupWindowSec: Type.Integer({ minimum: 60 }),
    /** Slack the devices allow for clock drift when checking grant windows. */
    clockToleranceSec: Type.Integer({ minimum: 0, maximum: 3600 }),
    doorOpenTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000 }),
    heartbeatMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
    /** How long a carrier has to collect an expired parcel with its collection code. */
    collectWindowSec: Type.Integer({ minimum: 60 }),
    /** How long an operator's command waits for its locker by default. */
    commandTtlSec: Type.Integer({ minimum: 10, maximum: 86_400 }),
    /** Lifetime of an API access token issued to an account. */
    apiTokenTtlSec: Type.Integer({ minimum: 60, maximum: 2 * 365 * 24 * 3600 }),
    /** Requests per minute and account for operator and carrier accounts. */
    rateLimitPerMinute: Type.Integer({ minimum: 1 }),
    /** Requests per minute and account for admins (bootstrap token and admin accounts); 0 = not limited. */
    rateLimitAdminPerMinute: Type.Integer({ minimum: 0 }),
    /** Requests per minute and client address that carry no valid token (guessing tokens). */
    rateLimitAnonymousPerMinute: Type.Integer({ minimum: 1 }),
    /**
     * A new signing key signs once every locker that has ever connected reported the desired-state version that
     * carried it, or at the latest this long after it was made (lockers offline longer get it with their next
     * snapshot, and refuse QR grants of the new key until then).
     */
    keyActivationGraceSec: Type.Integer({ minimum: 60, maximum: 90 * 24 * 3600 }),
    /** Remote opens each principal (operator or admin) may ask for in any 60 seconds. */
    remoteOpenPerOperatorPerMinute: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Remote opens the whole fleet may receive in any 60 seconds, from all principals together. */
    remoteOpenFleetPerMinute: Type.Integer({ minimum: 1, maximum: 10_000 }),
    /** Bearer token a Prometheus scraper may use for /metrics (besides admin and operator tokens); unset = none. */
    metricsToken: Type.Optional(Type.String({ minLength: 32, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' })),
    /** How often the dashboard's live stream (GET /v1/live) pushes the changes it collected: at most one message per interval. */
    livePushIntervalMs: Type.Integer({ minimum: 1000, maximum: 60_000 }),
    /** Attempts per webhook delivery before it is dead-lettered. */
    webhookMaxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
    /** How long one webhook attempt may take (connect, send, answer) before it counts as failed. */
    webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
    /** Webhook deliveries in flight at once (per server process). */
    webhookConcurrency: Type.Integer({ minimum: 1, maximum: 256 }),
    /** First retry delay of a webhook delivery; each further retry doubles it (with jitter), up to webhookRetryMaxMs. */
    webhookRetryBaseMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    webhookRetryMaxMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
    /** How often the webhook worker looks for due deliveries (on the injected clock). */
    webhookPollMs: Type.Integer({ minimum: 10, maximum: 60_000 }),
    /** Delivered and dead webhook deliveries are deleted this long after they were created. */
    webhookRetentionSec: Type.Integer({ minimum: 3600, maximum: 365 * 24 * 3600 }),
    /** Lock pulses a locker tries before it reports a lock that does not release as jammed (sent to lockers). */
    unlockAttempts: Type.Integer({ minimum: 1, maximum: 10 }),
    /** Below this battery charge (percent) a locker raises a `battery_low` alarm. */
    lowBatteryPct: Type.Integer({ minimum: 1, maximum: 99 }),
    /** Longest life of a courier's batch deposit code (it also ends with the earliest drop-off window of its parcels). */
    depositSessionSec: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600 }),
    /** Postgres instead of SQLite (several server processes may share it): postgres://user:pass@host:port/db. */
    databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    /** Connections each server process keeps to Postgres. */
    databasePoolSize: Type.Integer({ minimum: 1, maximum: 500 }),
    /** An external MQTT broker (Mosquitto, EMQX) instead of the embedded one: mqtt(s)://host:port. */
    mqttUrl: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
    /** The server's own account on the external broker. */
    mqttUsername: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    mqttPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /**
     * How lockers sign in to the external broker: `dynsec` = the server makes each locker a Mosquitto
     * dynamic-security client at enrolment; `http` = the broker asks the server (POST /v1/broker/auth, EMQX).
     */
    mqttDeviceAuth: Type.Union([Type.Literal('dynsec'), Type.Literal('http')]),
    /** `off` for a broker without MQTT 5 shared subscriptions: every process then gets every device message. */
    mqttSharedSubscriptions: Type.Union([Type.Literal('on'), Type.Literal('off')]),
    /** How long the external broker keeps this process' session (and queues its messages) while it is away. */
    mqttSessionExpirySec: Type.Integer({ minimum: 0, maximum: 86_400 }),
    /** This process' name among several (leases, MQTT client id); defaults to host name and process id. */
    instanceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
    /** Secret the external broker presents on POST /v1/broker/auth and /v1/broker/acl (mqttDeviceAuth http). */
    brokerHookToken: Type.Optional(Type.String({ minLength: 32, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' })),
    /** Reminders before the pickup window ends: lead times in seconds, each sent once per parcel; empty = none. */
    pickupRemindersSec: Type.Array(Type.Integer({ minimum: 60 }), { maxItems: 5 }),
    /** How much one extension through the API adds to the pickup window. */
    extensionSec: Type.Integer({ minimum: 60, maximum: 30 * 24 * 3600 }),
    /** Extensions allowed per parcel (0 = none). */
    maxExtensions: Type.Integer({ minimum: 0, maximum: 10 }),
    /** A locker not heard from for this long raises a `locker_offline` alarm (resolved when it is back). */
    lockerOfflineAlarmSec: Type.Integer({ minimum: 10, maximum: 7 * 24 * 3600 }),
    // Webhook SSRF (issue 17):
    /** Address ranges (CIDR) webhooks may reach although private, loopback or link-local; empty = none. */
    webhookAllowPrivate: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }),
    // Security headers (issue 17, small findings).
    /** `Strict-Transport-Security: max-age` sent on every HTTP response; 0 = none (set it only behind a TLS proxy). */
    hstsMaxAgeSec: Type.Integer({ minimum: 0, maximum: 2 * 365 * 24 * 3600 }),
    // MQTT before sign-in (embedded broker): limits enforced on the socket, before authentication and buffering.
    /** Largest MQTT packet a client may send (remaining length); at least the protocol's payload limit plus header room. */
    mqttMaxPacketBytes: Type.Integer({ minimum: MAX_PAYLOAD_BYTES + 1024, maximum: 16 * 1024 * 1024 }),
    /** Largest CONNECT packet, and most bytes a client may send before it is signed in. */
    mqttMaxConnectBytes: Type.Integer({ minimum: 512, maximum: 65_536 }),
    /** A client that has not signed in this long after it connected is disconnected. */
    mqttSignInTimeoutMs: Type.Integer({ minimum: 500, maximum: 120_000 }),
    /** New MQTT connections one client address may open in any 10 seconds; more are closed at once (0 = no limit). */
    mqttConnectsPerAddressPer10s: Type.Integer({ minimum: 0, maximum: 100_000 }),
    /** Comma-separated IP addresses the connection limit does not apply to ('none' = every address is limited). */
    mqttConnectLimitExempt: Type.String({ maxLength: 4096 }),
    // Disk full and write failures (issue 17).
    /** While writes fail (disk full, read-only, unreachable), how often one small probe write checks whether they work again. */
    storageProbeMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
    // Remote opens and set_service (issue 17): caps, four-eyes and burst alarms; see docs/security.md.
    /** Longest a remote open may wait for its locker (the default is the smaller of this and commandTtlSec). */
    remoteOpenMaxTtlSec: Type.Integer({ minimum: 10, maximum: 86_400 }),
    /** Different lockers one principal may open compartments of in any hour. */
    remoteOpenLockersPerOperatorPerHour: Type.Integer({ minimum: 1, maximum: 10_000 }),
    /** Remote opens one principal may have waiting (pending) for lockers that are offline. */
    remoteOpenQueuedPerOperator: Type.Integer({ minimum: 0, maximum: 10_000 }),
    /** Opens of an occupied compartment one principal may send without a second operator's approval in any 24 h. */
    remoteOpenOccupiedDailyAllowance: Type.Integer({ minimum: 0, maximum: 1000 }),
    /** Opens of occupied compartments (on allowance or approved) the whole fleet may send in any hour. */
    remoteOpenOccupiedFleetPerHour: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** How long a request to open an occupied compartment waits for its approval. */
    remoteOpenApprovalTtlSec: Type.Integer({ minimum: 60, maximum: 86_400 }),
    /** The window burst alarms count remote-open attempts over. */
    remoteOpenBurstWindowSec: Type.Integer({ minimum: 10, maximum: 86_400 }),
    /** Remote-open attempts by one principal within the window that raise a `remote_open_burst` alarm. */
    remoteOpenBurstPerOperator: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** Remote-open attempts by everyone within the window that raise a fleet-wide `remote_open_burst` alarm. */
    remoteOpenBurstFleet: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    /** set_service commands each principal may send in any 60 seconds. */
    setServicePerOperatorPerMinute: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** set_service commands the whole fleet may receive in any 60 seconds. */
    setServiceFleetPerMinute: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);
export type ServerConfig = Readonly<Static<typeof ServerConfigSchema>>;

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
  mqttConnectLimitExempt: 'MQTT_CONNECT_LIMIT_EXEMPT',
  // Disk full and write failures (issue 17).
  storageProbeMs: 'STORAGE_PROBE_MS',
  // Remote opens and set_service (issue 17).
  remoteOpenMaxTtlSec: 'REMOTE_OPEN_MAX_TTL_SEC',
  remoteOpenLockersPerOperatorPerHour: 'REMOTE_OPEN_LOCKERS_PER_OPERATOR_PER_HOUR',
  remoteOpenQueuedPerOperator: 'REMOTE_OPEN_QUEUED_PER_OPERATOR',
  remoteOpenOccupiedDailyAllowance: 'REMOTE_OPEN_OCCUPIED_DAILY_ALLOWANCE',
  remoteOpenOccupiedFleetPerHour: 'REMOTE_OPEN_OCCUPIED_FLEET_PER_HOUR',
  remoteOpenApprovalTtlSec: 'REMOTE_OPEN_APPROVAL_TTL_SEC',
  remoteOpenBurstWindowSec: 'REMOTE_OPEN_BURST_WINDOW_SEC',
  remoteOpenBurstPerOperator: 'REMOTE_OPEN_BURST_PER_OPERATOR',
  remoteOpenBurstFleet: 'REMOTE_OPEN_BURST_FLEET',
  setServicePerOperatorPerMinute: 'SET_SERVICE_PER_OPERATOR_PER_MINUTE',
  setServiceFleetPerMinute: 'SET_SERVICE_FLEET_PER_MINUTE',
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
  // Loopback: the simulator, benches and a proxy on the same host (which hides client addresses anyway).
  mqttConnectLimitExempt: '127.0.0.1,::1',
  // Disk full and write failures (issue 17).
  storageProbeMs: 5000,
  // Remote opens and set_service (issue 17).
  remoteOpenMaxTtlSec: 600,
  remoteOpenLockersPerOperatorPerHour: 5,
  remoteOpenQueuedPerOperator: 5,
  remoteOpenOccupiedDailyAllowance: 3,
  remoteOpenOccupiedFleetPerHour: 10,
  remoteOpenApprovalTtlSec: 900,
  remoteOpenBurstWindowSec: 600,
  remoteOpenBurstPerOperator: 5,
  remoteOpenBurstFleet: 20,
  setServicePerOperatorPerMinute: 10,
  setServiceFleetPerMinute: 60,
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
  // Disk full and write failures (issue 17).
  'storageProbeMs',
  // Remote opens and set_service (issue 17).
  'remoteOpenMaxTtlSec',
  'remoteOpenLockersPerOperatorPerHour',
  'remoteOpenQueuedPerOperator',
  'remoteOpenOccupiedDailyAllowance',
  'remoteOpenOccupiedFleetPerHour',
  'remoteOpenApprovalTtlSec',
  'remoteOpenBurstWindowSec',
  'remoteOpenBurstPerOperator',
  'remoteOpenBurstFleet',
  'setServicePerOperatorPerMinute',
  'setServiceFleetPerMinute',
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
