import { Type, type Static } from '@sinclair/typebox';
import { CompartmentCounts } from './dashboard.js';
import { LockerView } from './lockers.js';
import { CursorParam, LimitParam, Page, SortOrder } from './listing.js';

export const LOCKER_SORTS = ['name', 'state', 'occupancy', 'last_seen', 'open_alarms'] as const;
export type LockerSort = (typeof LOCKER_SORTS)[number];
export const LOCKER_STATE_FILTERS = ['online', 'offline', 'alarm'] as const;

/** GET /v1/lockers (and /v1/lockers/export.csv, without limit and cursor). */
export const LockerListQuery = Type.Object(
  {
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
    sort: Type.Optional(Type.Union(LOCKER_SORTS.map((s) => Type.Literal(s)), { description: 'Default name.' })),
    order: Type.Optional(SortOrder),
    /** `alarm`: lockers with unresolved alarms. */
    state: Type.Optional(Type.Union(LOCKER_STATE_FILTERS.map((s) => Type.Literal(s)))),
    /** Names starting with this (case-sensitive). */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Names containing this (any case), or the id. */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type LockerListQuery = Static<typeof LockerListQuery>;

export const LockerExportQuery = Type.Omit(LockerListQuery, ['limit', 'cursor']);
export type LockerExportQuery = Static<typeof LockerExportQuery>;

/**
 * A locker as the fleet listing shows it: the locker (as GET /v1/lockers/:id), plus whether it is online, how full
 * it is (in use: compartments holding a parcel, reserved or occupied) and its unresolved alarms.
 */
export const LockerListItem = Type.Intersect([
  LockerView,
  Type.Object({
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    occupancy: Type.Object({
      inUse: Type.Integer(),
      total: Type.Integer(),
      outOfService: Type.Integer(),
      /** Per size the locker has. */
      bySize: Type.Record(Type.String(), CompartmentCounts),
    }),
    alarms: Type.Object({ open: Type.Integer(), acknowledged: Type.Integer() }),
  }),
]);
export type LockerListItem = Static<typeof LockerListItem>;

export const LockerPage = Page(LockerListItem);
export type LockerPage = Static<typeof LockerPage>;
