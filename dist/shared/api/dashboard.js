import { Type } from '@sinclair/typebox';
/** Compartments by state. */
export const CompartmentCounts = Type.Object({
    free: Type.Integer(),
    reserved: Type.Integer(),
    occupied: Type.Integer(),
    out_of_service: Type.Integer(),
});
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
export const FleetTotals = Type.Object({
    lockers: Type.Integer(),
    online: Type.Integer(),
    offline: Type.Integer(),
    compartments: CompartmentCounts,
    alarms: AlarmCounts,
});
/** GET /v1/fleet */
export const FleetView = Type.Object({ at: Type.Integer(), totals: FleetTotals, lockers: Type.Array(LockerSummary) });
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
/** GET /v1/lockers/:id/events */
export const EventsQuery = Type.Object({
    /** Only events with a seq below this one (page backwards). */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    /** How many (default 50, at most 200). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
}, { additionalProperties: false });
export const EventsPage = Type.Object({ events: Type.Array(EventView), nextBefore: Type.Union([Type.Integer(), Type.Null()]) });
//# sourceMappingURL=dashboard.js.map