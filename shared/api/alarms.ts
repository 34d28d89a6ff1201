import { Type, type Static } from '@sinclair/typebox';
import { ALARM_SEVERITIES } from './alarm-severity.js';
import { CursorParam, LimitParam, Page, TimeParam } from './listing.js';

export const ALARM_STATES = ['open', 'acknowledged', 'resolved'] as const;
export const AlarmState = Type.Union(ALARM_STATES.map((s) => Type.Literal(s)));
export type AlarmState = (typeof ALARM_STATES)[number];

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.Integer(), Type.Null()]);

/** Something an operator must look at. One open alarm per (locker, compartment, kind): repeats count up. */
export const AlarmView = Type.Object({
  id: Type.String(),
  lockerId: Type.String(),
  compartmentId: NullableString,
  parcelId: NullableString,
  kind: Type.String(),
  state: AlarmState,
  count: Type.Integer(),
  firstAt: Type.Integer(),
  lastAt: Type.Integer(),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  acknowledgedAt: NullableTime,
  acknowledgedBy: NullableString,
  resolvedAt: NullableTime,
  resolvedBy: NullableString,
  note: NullableString,
  /** From the kind (shared/api/alarm-severity.ts). */
  severity: Type.Union(ALARM_SEVERITIES.map((v) => Type.Literal(v))),
});
export type AlarmView = Static<typeof AlarmView>;

/** GET /v1/alarms: most recent first (last_at, then id), a keyset page (shared/api/listing.ts). */
export const AlarmList = Page(AlarmView);
export type AlarmList = Static<typeof AlarmList>;

/** GET /v1/alarms */
export const AlarmQuery = Type.Object(
  {
    lockerId: Type.Optional(Type.String({ maxLength: 64 })),
    state: Type.Optional(AlarmState),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    severity: Type.Optional(Type.Union(ALARM_SEVERITIES.map((v) => Type.Literal(v)))),
    /** Raised (first seen) before this time, ms since the epoch: alarms at least this old. */
    firstBefore: Type.Optional(TimeParam),
    /** How many, most recent first (default 100, at most 1000). */
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type AlarmQuery = Static<typeof AlarmQuery>;

/** An optional note an operator gives with an acknowledge or resolve (kept on the alarm; the last one wins). */
export const AlarmActionBody = Type.Union([Type.Object({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false }), Type.Null()]);
export type AlarmActionBody = Static<typeof AlarmActionBody>;

/**
 * Unusual remote-open activity (issue 17): one principal's attempts, or the fleet's, reached the burst threshold
 * within the window. Raised on the locker of the attempt that crossed it; `detail` says `scope`, `actor`, `count`.
 */
export const REMOTE_OPEN_BURST_ALARM = 'remote_open_burst';
