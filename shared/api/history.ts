import { Type, type Static } from '@sinclair/typebox';
import { TimeParam } from './listing.js';

export const HOUR_MS = 3_600_000;
/** The longest range one request reads (31 days of hours). */
export const MAX_HISTORY_HOURS = 744;

/** GET /v1/history: per-hour counters and occupancy of one locker, or of the fleet without `lockerId`. */
export const HistoryQuery = Type.Object(
  {
    lockerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Start (ms since the epoch; rounded down to the hour). Default: 24 hours before `to`. */
    from: Type.Optional(TimeParam),
    /** End, exclusive (ms; rounded up to the hour). Default: the end of the current hour. */
    to: Type.Optional(TimeParam),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HourCounts = Type.Object({
  /** The hour's start, ms since the epoch. */
  hour: Type.Integer(),
  bookings: Type.Integer(),
  deposits: Type.Integer(),
  pickups: Type.Integer(),
  expiries: Type.Integer(),
  alarms: Type.Integer(),
  /** Compartments in use / in all, per size, at the hour's sample (carried forward from the last sample). */
  occupancy: Type.Record(Type.String(), Type.Object({ inUse: Type.Integer(), total: Type.Integer() })),
});
export type HourCounts = Static<typeof HourCounts>;

export const HistoryView = Type.Object({
  lockerId: Type.Union([Type.String(), Type.Null()]),
  from: Type.Integer(),
  to: Type.Integer(),
  /** Every hour of the range, oldest first (hours without activity count zero). */
  hours: Type.Array(HourCounts),
});
export type HistoryView = Static<typeof HistoryView>;
