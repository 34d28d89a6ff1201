import { Type, type Static } from '@sinclair/typebox';
import { LockerId } from '../ids.js';
import { DiagnosticsResult, FirmwareVersion } from '../messages.js';

/** POST /v1/firmware: an update signed by the vendor (docs/firmware.md). */
export const FirmwareUpload = Type.Object(
  {
    version: FirmwareVersion,
    /** The artefact's bytes, base64 (standard or url alphabet). */
    artefact: Type.String({ minLength: 4 }),
    /** Ed25519 signature (base64url, 86 characters) over `lockstep-firmware-v1:{version}:{sha256 hex}`, by the vendor's key. */
    signature: Type.String({ minLength: 86, maxLength: 86, pattern: '^[A-Za-z0-9_-]+$' }),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type FirmwareUpload = Static<typeof FirmwareUpload>;

export const FirmwareView = Type.Object({
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  signature: Type.String(),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
});
export type FirmwareView = Static<typeof FirmwareView>;
export const FirmwareList = Type.Object({ firmware: Type.Array(FirmwareView) });

const Percent = Type.Integer({ minimum: 1, maximum: 100 });
/** "HH:MM", 24-hour clock. */
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });

/** POST /v1/rollouts */
export const RolloutBody = Type.Object(
  {
    version: FirmwareVersion,
    /**
     * Waves: cumulative percentages of the targets (increasing, the last 100), e.g. [1, 10, 50, 100]; or groups of
     * locker ids, one group per wave (then only those lockers are targets).
     */
    waves: Type.Union([
      Type.Array(Percent, { minItems: 1, maxItems: 20 }),
      Type.Array(Type.Array(LockerId, { minItems: 1, maxItems: 10_000 }), { minItems: 1, maxItems: 20 }),
    ]),
    /** Updates start only inside this window of each locker's local time (its `timezone`); end exclusive, may wrap midnight. */
    window: Type.Optional(Type.Object({ start: ClockTime, end: ClockTime }, { additionalProperties: false })),
    healthGate: Type.Optional(
      Type.Object(
        {
          /** A locker that has not reported the new version this long after the update was sent counts as failed. */
          deadlineSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86_400 })),
          /** More failed lockers in a wave than this share halts the rollout. */
          maxFailedPct: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          /** More alarms raised by a wave's lockers since it started than in as long before it, by more than this, halts. */
          maxAlarmIncrease: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    reason: Type.String({ minLength: 3, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type RolloutBody = Static<typeof RolloutBody>;

export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'aborted', 'completed', 'rolling_back', 'rolled_back'] as const;
export const RolloutStateSchema = Type.Union(ROLLOUT_STATES.map((s) => Type.Literal(s)));

/** GET /v1/rollouts/:id: where the rollout stands. */
export const RolloutView = Type.Object({
  id: Type.String(),
  version: Type.String(),
  state: RolloutStateSchema,
  /** Index of the wave in progress (0-based) and the waves as given. */
  wave: Type.Integer(),
  waves: Type.Array(Type.Integer()),
  window: Type.Object({ start: Type.String(), end: Type.String() }),
  healthGate: Type.Object({ deadlineSec: Type.Integer(), maxFailedPct: Type.Integer(), maxAlarmIncrease: Type.Integer() }),
  /** Lockers the rollout targets, and how many are updated, failed, still pending, sent and waiting, rolled back. */
  target: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer(),
  inProgress: Type.Integer(),
  rolledBack: Type.Integer(),
  halted: Type.Boolean(),
  haltedReason: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type RolloutView = Static<typeof RolloutView>;
export const RolloutList = Type.Object({ rollouts: Type.Array(RolloutView) });

/** GET /v1/rollouts/:id/lockers */
export const RolloutLockerList = Type.Object({
  lockers: Type.Array(
    Type.Object({
      lockerId: Type.String(),
      wave: Type.Integer(),
      state: Type.String(),
      fromVersion: Type.Union([Type.String(), Type.Null()]),
      deviceState: Type.Union([Type.String(), Type.Null()]),
      detail: Type.Union([Type.String(), Type.Null()]),
      sentAt: Type.Union([Type.Integer(), Type.Null()]),
      doneAt: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});

/** POST /v1/rollouts/:id/{pause,resume,abort,rollback} */
export const RolloutActionBody = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 200 }) }, { additionalProperties: false });

/** PUT /v1/lockers/:id/timezone */
export const TimezoneBody = Type.Object({ timezone: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** POST /v1/lockers/:id/diagnostics */
export const DiagnosticsBody = Type.Object(
  {
    reason: Type.String({ minLength: 3, maxLength: 200 }),
    logLines: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    ttlSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

export const DiagnosticsView = Type.Object({
  requestId: Type.String(),
  lockerId: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('completed'), Type.Literal('expired')]),
  reason: Type.String(),
  requestedBy: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  completedAt: Type.Union([Type.Integer(), Type.Null()]),
  result: Type.Union([DiagnosticsResult, Type.Null()]),
});
export type DiagnosticsView = Static<typeof DiagnosticsView>;
