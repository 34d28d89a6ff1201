import { Type } from '@sinclair/typebox';
export const ALARM_STATES = ['open', 'acknowledged', 'resolved'];
export const AlarmState = Type.Union(ALARM_STATES.map((s) => Type.Literal(s)));
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
});
export const AlarmList = Type.Object({ alarms: Type.Array(AlarmView) });
/** GET /v1/alarms */
export const AlarmQuery = Type.Object({
    lockerId: Type.Optional(Type.String({ maxLength: 64 })),
    state: Type.Optional(AlarmState),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** How many, newest first (default and maximum 1000). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
}, { additionalProperties: false });
/** An optional note an operator gives with an acknowledge or resolve (kept on the alarm; the last one wins). */
export const AlarmActionBody = Type.Union([Type.Object({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false }), Type.Null()]);
/**
 * Unusual remote-open activity (issue 17): one principal's attempts, or the fleet's, reached the burst threshold
 * within the window. Raised on the locker of the attempt that crossed it; `detail` says `scope`, `actor`, `count`.
 */
export const REMOTE_OPEN_BURST_ALARM = 'remote_open_burst';
//# sourceMappingURL=alarms.js.map