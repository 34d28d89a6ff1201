import { Type } from '@sinclair/typebox';
import { CompartmentId, OpaqueId } from './ids.js';
import { MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from './protocol-version.js';
import { CompartmentSize } from './compartment-sizes.js';
/** Every payload carries the schema version it was written with. */
const V = Type.Literal(PROTOCOL_VERSION);
const Millis = Type.Integer({ minimum: 0 });
const ShortText = Type.String({ maxLength: 200 });
function message(props) {
    return Type.Object({ v: V, ...props }, { additionalProperties: false });
}
// ---- device → server -------------------------------------------------------------------------------------
/** `lockers/{id}/status`, retained. Also the MQTT will, with `state: "offline"`. */
export const StatusMessage = message({
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    bootId: OpaqueId,
    at: Type.Optional(Millis),
});
/** What the locker reads from its own hardware; each part optional (not every controller has every sensor). */
export const Telemetry = Type.Object({
    firmwareVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Inside the locker, degrees Celsius. */
    temperatureC: Type.Optional(Type.Number({ minimum: -100, maximum: 150 })),
    power: Type.Optional(Type.Object({
        /** `battery`: mains is gone and the locker runs on its backup battery. */
        source: Type.Union([Type.Literal('mains'), Type.Literal('battery')]),
        /** Charge of the backup battery, percent (absent when the controller cannot tell). */
        batteryPct: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    }, { additionalProperties: false })),
}, { additionalProperties: false });
/** `lockers/{id}/heartbeat`: the device is alive; what it holds; what its sensors read. */
export const HeartbeatMessage = message({
    bootId: OpaqueId,
    at: Millis,
    lastSeq: Type.Integer({ minimum: 0 }),
    outbox: Type.Integer({ minimum: 0 }),
    appliedVersion: Type.Integer({ minimum: 0 }),
    telemetry: Type.Optional(Telemetry),
});
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
];
/** `deposit_batch`: one courier code for several parcels at one locker (the parcels are the grant's `items`). */
const GRANT_ACTIONS = ['deposit', 'pickup', 'collect', 'service', 'deposit_batch'];
export const GrantAction = Type.Union(GRANT_ACTIONS.map((a) => Type.Literal(a)));
/** One thing the locker recorded. `(lockerId, seq)` identifies it; the server applies it once. */
export const DeviceEvent = Type.Object({
    seq: Type.Integer({ minimum: 1 }),
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
}, { additionalProperties: false });
/** `lockers/{id}/events`: a batch of events from the durable outbox. */
export const EventBatchMessage = message({
    events: Type.Array(DeviceEvent, { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH }),
});
/** `lockers/{id}/state/get`: the device asks for a full snapshot. */
export const StateGetMessage = message({
    have: Type.Integer({ minimum: 0 }),
    reason: Type.Union([Type.Literal('connect'), Type.Literal('gap'), Type.Literal('invalid')]),
});
/**
 * `lockers/{id}/state/reported`: the version the device applied, and the last event seq it had recorded by
 * then (once the server has committed that seq, it knows every use of a grant the version revoked).
 */
export const StateReportedMessage = message({
    version: Type.Integer({ minimum: 0 }),
    lastSeq: Type.Integer({ minimum: 0 }),
});
// ---- server → device -------------------------------------------------------------------------------------
/** `lockers/{id}/events/ack`: seqs the server has committed (or had already). Sent only after commit. */
export const EventAckMessage = message({
    seqs: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_EVENTS_PER_BATCH }),
    serverTime: Millis,
});
/** Public Ed25519 key as JWK, as served in the JWKS. */
export const PublicJwk = Type.Object({
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ maxLength: 64 }),
    kid: Type.String({ maxLength: 64 }),
    alg: Type.Optional(Type.Literal('EdDSA')),
    use: Type.Optional(Type.Literal('sig')),
}, { additionalProperties: false });
/** Settings the server pushes to a device. */
export const DeviceConfig = Type.Object({
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
}, { additionalProperties: false });
/** A compact JWS grant (ours are about 560 characters; a batch grant with its items up to about 2,000). */
const Token = Type.String({ maxLength: 2560 });
/** Most parcels one batch grant (`deposit_batch`) may list. */
export const MAX_BATCH_ITEMS = 20;
/** One parcel of a batch grant: the parcel (`p`) and the compartment booked for it (`c`). */
export const BatchItem = Type.Object({ p: OpaqueId, c: CompartmentId }, { additionalProperties: false });
/** The extra claim of a `deposit_batch` grant: its parcels, in the order the locker offers them. */
export const BatchItems = Type.Array(BatchItem, { minItems: 1, maxItems: MAX_BATCH_ITEMS });
export const StateChange = Type.Union([
    Type.Object({ op: Type.Literal('grant.add'), token: Token }, { additionalProperties: false }),
    Type.Object({ op: Type.Literal('grant.revoke'), jti: OpaqueId }, { additionalProperties: false }),
    Type.Object({ op: Type.Literal('keys.set'), keys: Type.Array(PublicJwk, { minItems: 1, maxItems: 16 }) }, { additionalProperties: false }),
    Type.Object({ op: Type.Literal('config.set'), config: DeviceConfig }, { additionalProperties: false }),
    Type.Object({ op: Type.Literal('compartment.service'), id: CompartmentId, inService: Type.Boolean() }, { additionalProperties: false }),
]);
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
    compartments: Type.Array(Type.Object({
        id: CompartmentId,
        size: CompartmentSize,
        inService: Type.Boolean(),
    }, { additionalProperties: false }), { maxItems: 512 }),
    grants: Type.Array(Token, { maxItems: 1024 }),
    /** Grants revoked and not yet expired: refused even as a QR (a snapshot replaces the deltas that said so). */
    revoked: Type.Array(OpaqueId, { maxItems: 4096 }),
});
export const StateDeltaMessage = message({
    full: Type.Literal(false),
    version: Type.Integer({ minimum: 1 }),
    baseVersion: Type.Integer({ minimum: 0 }),
    serverTime: Millis,
    changes: Type.Array(StateChange, { minItems: 1, maxItems: 64 }),
});
export const StateMessage = Type.Union([StateSnapshotMessage, StateDeltaMessage]);
export const COMMAND_TYPES = ['open', 'set_service'];
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
//# sourceMappingURL=messages.js.map