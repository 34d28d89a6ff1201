import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CompartmentId, OpaqueId } from './ids.js';
import { MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from './protocol-version.js';
import { CompartmentSize } from './compartment-sizes.js';

/** Every payload carries the schema version it was written with. */
const V = Type.Literal(PROTOCOL_VERSION);
const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ShortText = Type.String({ maxLength: 200 });

function message<T extends Record<string, TSchema>>(props: T) {
  return Type.Object({ v: V, ...props }, { additionalProperties: false });
}

// ---- device → server -------------------------------------------------------------------------------------

/** `lockers/{id}/status`, retained. Also the MQTT will, with `state: "offline"`. */
export const StatusMessage = message({
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  bootId: OpaqueId,
  at: Type.Optional(Millis),
});
export type StatusMessage = Static<typeof StatusMessage>;

/** What the locker reads from its own hardware; each part optional (not every controller has every sensor). */
export const Telemetry = Type.Object(
  {
    firmwareVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Inside the locker, degrees Celsius. */
    temperatureC: Type.Optional(Type.Number({ minimum: -100, maximum: 150 })),
    power: Type.Optional(
      Type.Object(
        {
          /** `battery`: mains is gone and the locker runs on its backup battery. */
          source: Type.Union([Type.Literal('mains'), Type.Literal('battery')]),
          /** Charge of the backup battery, percent (absent when the controller cannot tell). */
          batteryPct: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
    // ---- lock boards (issue 15): the health of the bus to the lock boards (Modbus drivers) ----
    bus: Type.Optional(
      Type.Object(
        {
          /** Failed bus requests (no answer, CRC, refused, coil that did not take) over the last minute. */
          errorsPerMinute: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
          /** Boards (unit ids) answering now. */
          boardsSeen: Type.Integer({ minimum: 0, maximum: 1000 }),
          /** Boards the wiring uses. */
          boards: Type.Integer({ minimum: 0, maximum: 1000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Telemetry = Static<typeof Telemetry>;

/** `lockers/{id}/heartbeat`: the device is alive; what it holds; what its sensors read. */
export const HeartbeatMessage = message({
  bootId: OpaqueId,
  at: Millis,
  lastSeq: Type.Integer({ minimum: 0 }),
  outbox: Type.Integer({ minimum: 0 }),
  appliedVersion: Type.Integer({ minimum: 0 }),
  telemetry: Type.Optional(Telemetry),
});
export type HeartbeatMessage = Static<typeof HeartbeatMessage>;

export const EVENT_TYPES = [
  'code.accepted',
  'code.rejected',
  'door.opened',
  'door.closed',
  'parcel.deposited',
  'parcel.picked_up',
  'lock.jammed',
  'door.forced_open',
  'door.left_open',
  /** A door session the agent could not finish (e.g. a restart before the lock was driven). */
  'session.aborted',
  'command.succeeded',
  'command.failed',
  'command.expired',
  /** Repeated wrong codes locked the keypad (alarm); see docs/protocol.md, "Keypad lockout". */
  'keypad.locked',
  /**
   * The locker put a parcel's deposit into another compartment (`fromCompartmentId` → `compartmentId`): the
   * courier said it does not fit, or the booked compartment's lock jammed. See docs/protocol.md, "Moved parcels".
   */
  'parcel.moved',
  // ---- lock boards (issue 15): faults the controller's hardware finds by itself (docs/hardware.md) ----
  /** A lock board (`board`) stopped answering (alarm `hardware_fault`, per board); `reason` says how it failed. */
  'hardware.fault',
  /** The board answers again: its `hardware_fault` alarm is resolved. */
  'hardware.recovered',
  /** A door sensor did not change after its lock was pulsed (a cut or shorted wire?): alarm `door_sensor_suspect`. */
  'door.sensor_suspect',
  // Screen (issue 14): a used pickup code opened its door once more within the reopen window; never a second pickup.
  'door.reopened',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `deposit_batch`: one courier code for several parcels at one locker (the parcels are the grant's `items`). */
const GRANT_ACTIONS = ['deposit', 'pickup', 'collect', 'service', 'deposit_batch'] as const;
export const GrantAction = Type.Union(GRANT_ACTIONS.map((a) => Type.Literal(a)));
export type GrantAction = Static<typeof GrantAction>;

/** One thing the locker recorded. `(lockerId, seq)` identifies it; the server applies it once. */
export const DeviceEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    id: OpaqueId,
    bootId: OpaqueId,
    at: Millis,
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    compartmentId: Type.Optional(CompartmentId),
    parcelId: Type.Optional(OpaqueId),
    jti: Type.Optional(OpaqueId),
    action: Type.Optional(GrantAction),
    /** How the code was entered. */
    via: Type.Optional(Type.Union([Type.Literal('keypad'), Type.Literal('scanner')])),
    /** Verdict code for rejections and faults (see docs/protocol.md). */
    reason: Type.Optional(ShortText),
    /** The command a `command.*` event reports on, or that a door session served. */
    commandId: Type.Optional(OpaqueId),
    /** On `keypad.locked`: failed keypad attempts in the run that locked it. */
    failures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    /** On `keypad.locked`: until when (device time estimate, ms) the keypad refuses input. */
    lockedUntil: Type.Optional(Millis),
    /** On `parcel.moved`: the compartment the parcel was meant for (`compartmentId` is where it goes now). */
    fromCompartmentId: Type.Optional(CompartmentId),
    /** lock boards (issue 15): on `hardware.*`, the board concerned (`unit 3` on a Modbus bus). */
    board: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type DeviceEvent = Static<typeof DeviceEvent>;

/** `lockers/{id}/events`: a batch of events from the durable outbox. */
export const EventBatchMessage = message({
  events: Type.Array(DeviceEvent, { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH }),
});
export type EventBatchMessage = Static<typeof EventBatchMessage>;

/** `lockers/{id}/state/get`: the device asks for a full snapshot. */
export const StateGetMessage = message({
  have: Type.Integer({ minimum: 0 }),
  reason: Type.Union([Type.Literal('connect'), Type.Literal('gap'), Type.Literal('invalid')]),
});
export type StateGetMessage = Static<typeof StateGetMessage>;

/**
 * `lockers/{id}/state/reported`: the version the device applied, and the last event seq it had recorded by
 * then (once the server has committed that seq, it knows every use of a grant the version revoked).
 */
export const StateReportedMessage = message({
  version: Type.Integer({ minimum: 0 }),
  lastSeq: Type.Integer({ minimum: 0 }),
});
export type StateReportedMessage = Static<typeof StateReportedMessage>;

// ---- server → device -------------------------------------------------------------------------------------

/** `lockers/{id}/events/ack`: seqs the server has committed (or had already). Sent only after commit. */
export const EventAckMessage = message({
  seqs: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_EVENTS_PER_BATCH }),
  serverTime: Millis,
});
export type EventAckMessage = Static<typeof EventAckMessage>;

/** Public Ed25519 key as JWK, as served in the JWKS. */
export const PublicJwk = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ maxLength: 64 }),
    kid: Type.String({ maxLength: 64 }),
    alg: Type.Optional(Type.Literal('EdDSA')),
    use: Type.Optional(Type.Literal('sig')),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwk>;

/** Settings the server pushes to a device. */
export const DeviceConfig = Type.Object(
  {
    /** Key for the PIN hash (base64url, 32 bytes). Secret: only this locker gets it. */
    pinKey: Type.String({ minLength: 43, maxLength: 43 }),
    pinLength: Type.Integer({ minimum: 4, maximum: 12 }),
    /** PIN symbols; digits when absent. */
    pinAlphabet: Type.Optional(Type.String({ pattern: '^[0-9A-Z]{2,36}$' })),
    /** Grant windows are checked with this much slack for clock drift. */
    clockToleranceSec: Type.Integer({ minimum: 0, maximum: 3600 }),
    /** How long a released lock waits for its door to open before it counts as not opened. */
    doorOpenTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000 }),
    heartbeatMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
    /** Lock pulses tried before a lock that does not release is reported jammed (2 when absent). */
    unlockAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  },
  { additionalProperties: false },
);
export type DeviceConfig = Static<typeof DeviceConfig>;

/** A compact JWS grant (ours are about 560 characters; a batch grant with its items up to about 2,000). */
const Token = Type.String({ maxLength: 2560 });

/** Most parcels one batch grant (`deposit_batch`) may list. */
export const MAX_BATCH_ITEMS = 20;

/** One parcel of a batch grant: the parcel (`p`) and the compartment booked for it (`c`). */
export const BatchItem = Type.Object({ p: OpaqueId, c: CompartmentId }, { additionalProperties: false });
export type BatchItem = Static<typeof BatchItem>;

/** The extra claim of a `deposit_batch` grant: its parcels, in the order the locker offers them. */
export const BatchItems = Type.Array(BatchItem, { minItems: 1, maxItems: MAX_BATCH_ITEMS });
export type BatchItems = Static<typeof BatchItems>;

export const StateChange = Type.Union([
  Type.Object({ op: Type.Literal('grant.add'), token: Token }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('grant.revoke'), jti: OpaqueId }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('keys.set'), keys: Type.Array(PublicJwk, { minItems: 1, maxItems: 16 }) }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('config.set'), config: DeviceConfig }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('compartment.service'), id: CompartmentId, inService: Type.Boolean() }, { additionalProperties: false }),
]);
export type StateChange = Static<typeof StateChange>;

/**
 * `lockers/{id}/state`: the desired state, versioned. A snapshot (`full: true`) replaces everything; a delta
 * applies only on top of `baseVersion`. The device ignores versions it has and asks for a snapshot on a gap.
 */
export const StateSnapshotMessage = message({
  full: Type.Literal(true),
  version: Type.Integer({ minimum: 0 }),
  serverTime: Millis,
  keys: Type.Array(PublicJwk, { maxItems: 16 }),
  config: DeviceConfig,
  compartments: Type.Array(
    Type.Object(
      {
        id: CompartmentId,
        size: CompartmentSize,
        inService: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    { maxItems: 512 },
  ),
  grants: Type.Array(Token, { maxItems: 1024 }),
  /** Grants revoked and not yet expired: refused even as a QR (a snapshot replaces the deltas that said so). */
  revoked: Type.Array(OpaqueId, { maxItems: 4096 }),
});
export type StateSnapshotMessage = Static<typeof StateSnapshotMessage>;

export const StateDeltaMessage = message({
  full: Type.Literal(false),
  version: Type.Integer({ minimum: 1 }),
  baseVersion: Type.Integer({ minimum: 0 }),
  serverTime: Millis,
  changes: Type.Array(StateChange, { minItems: 1, maxItems: 64 }),
});
export type StateDeltaMessage = Static<typeof StateDeltaMessage>;

export const StateMessage = Type.Union([StateSnapshotMessage, StateDeltaMessage]);
export type StateMessage = Static<typeof StateMessage>;

export const COMMAND_TYPES = ['open', 'set_service'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/**
 * `lockers/{id}/commands`: something the operator asked this locker to do. Sent again until the device reports
 * a final state (as a `command.*` event); the device runs each id at most once and never after `expiresAt`.
 */
export const CommandMessage = message({
  id: OpaqueId,
  type: Type.Union(COMMAND_TYPES.map((t) => Type.Literal(t))),
  compartmentId: CompartmentId,
  /** For `set_service`: the new state. */
  inService: Type.Optional(Type.Boolean()),
  issuedAt: Millis,
  expiresAt: Millis,
  serverTime: Millis,
});
export type CommandMessage = Static<typeof CommandMessage>;

// ---- Firmware updates and remote diagnostics (issue 19; see docs/firmware.md) -----------------------------

/** A firmware (or agent) version: letters, digits, dots, dashes, plus and underscores, as in `2.4.1-rc.1`. */
export const FirmwareVersion = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$' });

/** A path on the server's HTTP API (resolved against the locker's API_URL), carrying its own short-lived capability. */
const DevicePath = Type.String({ minLength: 1, maxLength: 512, pattern: '^/v1/device/' });

/**
 * `lockers/{id}/commands`, `type: "update"`: install firmware `version`. The locker downloads `download`, checks
 * that the bytes are `size` long with SHA-256 `sha256` and that `signature` is the vendor's Ed25519 signature of
 * `firmwareSignedText(version, sha256)` under the key it trusts, applies it between door sessions only, and tells
 * the server how it went at `report`. Sent again until the locker runs the version or the rollout gives up on it.
 */
export const UpdateCommandMessage = message({
  id: OpaqueId,
  type: Type.Literal('update'),
  version: FirmwareVersion,
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  size: Type.Integer({ minimum: 1 }),
  signature: Type.String({ minLength: 86, maxLength: 86 }),
  download: DevicePath,
  report: DevicePath,
  issuedAt: Millis,
  expiresAt: Millis,
  serverTime: Millis,
});
export type UpdateCommandMessage = Static<typeof UpdateCommandMessage>;

/** `lockers/{id}/commands`, `type: "diagnostics"`: send the recent agent log, outbox depth and hardware status to `report`. */
export const DiagnosticsCommandMessage = message({
  id: OpaqueId,
  type: Type.Literal('diagnostics'),
  /** Most log lines wanted (newest last). */
  logLines: Type.Integer({ minimum: 0, maximum: 1000 }),
  report: DevicePath,
  issuedAt: Millis,
  expiresAt: Millis,
  serverTime: Millis,
});
export type DiagnosticsCommandMessage = Static<typeof DiagnosticsCommandMessage>;

/** Everything the `commands` topic carries: an operator's command on a compartment, an update or a diagnostics request. */
export const LockerCommandMessage = Type.Union([CommandMessage, UpdateCommandMessage, DiagnosticsCommandMessage]);
export type LockerCommandMessage = Static<typeof LockerCommandMessage>;

/** The text a firmware signature signs: binds the version to the artefact's hash (no artefact passes for another version). */
export function firmwareSignedText(version: string, sha256: string): string {
  return `lockstep-firmware-v1:${version}:${sha256}`;
}

/** What a locker tells the server about an update (HTTP, `report` of the update command). */
export const UpdateReport = Type.Object(
  {
    state: Type.Union((['downloading', 'deferred', 'applied', 'failed', 'rolled_back'] as const).map((s) => Type.Literal(s))),
    /** The version the locker runs now. */
    version: Type.Optional(FirmwareVersion),
    reason: Type.Optional(ShortText),
  },
  { additionalProperties: false },
);
export type UpdateReport = Static<typeof UpdateReport>;

/** A locker's answer to a diagnostics request (HTTP, `report` of the diagnostics command). */
export const DiagnosticsResult = Type.Object(
  {
    at: Millis,
    bootId: OpaqueId,
    firmwareVersion: Type.Optional(FirmwareVersion),
    /** Unacknowledged events in the outbox, and the last seq assigned. */
    outbox: Type.Integer({ minimum: 0 }),
    lastSeq: Type.Integer({ minimum: 0 }),
    connected: Type.Boolean(),
    /** Per compartment: door sensor, fault, whether a door session is running, in service. */
    compartments: Type.Array(
      Type.Object(
        {
          id: CompartmentId,
          door: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('unknown')]),
          fault: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
          busy: Type.Boolean(),
          inService: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
      { maxItems: 512 },
    ),
    telemetry: Type.Optional(Telemetry),
    /** The agent's recent log lines (JSON lines, secrets redacted), oldest first. */
    log: Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type DiagnosticsResult = Static<typeof DiagnosticsResult>;
