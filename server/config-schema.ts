/**
 * Every server setting, its type, range and meaning: the schema `makeConfig` validates against (server/config.ts
 * reads the environment, applies defaults and freezes the result).
 */
import { Type, type Static } from '@sinclair/typebox';
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
    /** Broker sign-ins (token checks) one process runs at the same time; the rest wait their turn. */
    mqttSignInsAtOnce: Type.Integer({ minimum: 1, maximum: 1024 }),
    /** Broker sign-ins that may wait for their turn; beyond, CONNACK 3 "server unavailable" at once (0 = none wait). */
    mqttSignInsWaiting: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
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
    /** Requests to open an occupied compartment one principal may have waiting for approval at once. */
    remoteOpenPendingPerOperator: Type.Integer({ minimum: 1, maximum: 1000 }),
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
    // Operator sign-in (issue 19): sessions in cookies, lockout, password hashing; see docs/accounts.md.
    /** A sign-in session ends after this long without a request. */
    sessionIdleSec: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600 }),
    /** A sign-in session ends this long after the sign-in, whatever its activity. */
    sessionMaxSec: Type.Integer({ minimum: 300, maximum: 30 * 24 * 3600 }),
    /** The session cookie's Secure flag: 'auto' = when the request came over TLS or HSTS is configured. */
    sessionCookieSecure: Type.Union([Type.Literal('auto'), Type.Literal('always'), Type.Literal('never')]),
    /** Failed sign-ins for one account name within the lockout period that lock the name for that period. */
    signInMaxFailures: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Failed sign-ins from one client address within the lockout period that refuse that address for that period. */
    signInAddressMaxFailures: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** How long failures are counted, and how long a lock lasts. */
    signInLockoutSec: Type.Integer({ minimum: 10, maximum: 24 * 3600 }),
    /** scrypt cost of new password hashes, as log2(N) (r=8, p=3); stored with each hash, so it can be raised later. */
    passwordScryptLogN: Type.Integer({ minimum: 10, maximum: 20 }),
    // Firmware, rollouts and remote diagnostics (issue 19; docs/firmware.md).
    /** The vendor's Ed25519 firmware public key (base64url, 32 bytes, as a JWK's `x`): uploads must verify with it. */
    firmwarePublicKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
    /** Largest firmware artefact an admin may upload. */
    firmwareMaxBytes: Type.Integer({ minimum: 1024, maximum: 256 * 1024 * 1024 }),
    /** How often an update (or diagnostics request) a locker has not answered is sent again. */
    firmwareResendSec: Type.Integer({ minimum: 1, maximum: 86_400 }),
    // Scale (issue 18): docs/scale.md.
    /** Redis that joins every process's embedded broker into one fleet (aedes' clustering: mqemitter-redis + aedes-persistence-redis). */
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /** How often each process's broker tells the fleet it is alive; a process silent for 3 periods is taken for dead and its lockers' wills are published (within 4 more). */
    fleetHeartbeatMs: Type.Integer({ minimum: 1000, maximum: 600_000 }),
    /** Server processes `npm run start:cluster` runs on this machine (absent: one per core). */
    processes: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    // Dashboard map (cockpit, issue 19).
    /** Map tiles for the dashboard, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; unset: points on a plain background. */
    dashboardTileUrl: Type.Optional(Type.String({ minLength: 10, maxLength: 300, pattern: '^https://[^\\s"\']+\\{z\\}[^\\s"\']*$' })),
    /** The attribution the tile provider requires, shown on the map. */
    dashboardTileAttribution: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type ServerConfig = Readonly<Static<typeof ServerConfigSchema>>;
