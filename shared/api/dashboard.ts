import { Type, type Static } from '@sinclair/typebox';
import type { AlarmView } from './alarms.js';

/** Compartments by state. */
export const CompartmentCounts = Type.Object({
  free: Type.Integer(),
  reserved: Type.Integer(),
  occupied: Type.Integer(),
  out_of_service: Type.Integer(),
});
export type CompartmentCounts = Static<typeof CompartmentCounts>;

const AlarmCounts = Type.Object({ open: Type.Integer(), acknowledged: Type.Integer() });

/** One locker as the fleet overview shows it: presence, occupancy per size, unresolved alarms. */
export const LockerSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  location: Type.Object({ lat: Type.Number(), lon: Type.Number() }),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
  /** Per compartment size the locker has (sizes it lacks are absent). */
  occupancy: Type.Record(Type.String(), CompartmentCounts),
  alarms: AlarmCounts,
});
export type LockerSummary = Static<typeof LockerSummary>;

export const FleetTotals = Type.Object({
  lockers: Type.Integer(),
  online: Type.Integer(),
  offline: Type.Integer(),
  compartments: CompartmentCounts,
  alarms: AlarmCounts,
});
export type FleetTotals = Static<typeof FleetTotals>;

/** GET /v1/fleet */
export const FleetView = Type.Object({ at: Type.Integer(), totals: FleetTotals, lockers: Type.Array(LockerSummary) });
export type FleetView = Static<typeof FleetView>;

const OptionalString = Type.Optional(Type.String());

/** A device event as operators read it (what the locker recorded, and when the server committed it). */
export const EventView = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  bootId: Type.String(),
  type: Type.String(),
  /** Device time. */
  at: Type.Integer(),
  receivedAt: Type.Integer(),
  compartmentId: OptionalString,
  parcelId: OptionalString,
  action: OptionalString,
  via: OptionalString,
  reason: OptionalString,
  commandId: OptionalString,
});
export type EventView = Static<typeof EventView>;

/** GET /v1/lockers/:id/events */
export const EventsQuery = Type.Object(
  {
    /** Only events with a seq below this one (page backwards). */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    /** How many (default 50, at most 200). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

export const EventsPage = Type.Object({ events: Type.Array(EventView), nextBefore: Type.Union([Type.Integer(), Type.Null()]) });
export type EventsPage = Static<typeof EventsPage>;

/** GET /v1/live, `event: snapshot`: the first message of a stream, the whole fleet and every unresolved alarm. */
export interface LiveSnapshot {
  at: number;
  totals: FleetTotals;
  lockers: LockerSummary[];
  alarms: AlarmView[];
}

/** GET /v1/live, `event: update`: what changed since the last push. */
export interface LiveUpdate {
  at: number;
  totals: FleetTotals;
  /** Lockers whose summary changed (new ones included). */
  lockers: LockerSummary[];
  /** For each locker listed, its unresolved alarms are now exactly those in `items` (others were resolved). */
  alarms: { lockerIds: string[]; items: AlarmView[] };
  /** Lockers that committed new device events (a locker page reloads its events and compartments). */
  activity: string[];
}

/** GET /v1/dashboard/settings: the map's tile URL template and attribution (null: no tiles, points on a plain background). */
export const DashboardSettings = Type.Object({ tileUrl: Type.Union([Type.String(), Type.Null()]), tileAttribution: Type.Union([Type.String(), Type.Null()]) });
export type DashboardSettings = Static<typeof DashboardSettings>;
