import { Type, type Static } from '@sinclair/typebox';
import { DevicePublicKey } from '../broker-credentials.js';
import { CompartmentSize } from '../compartment-sizes.js';
import { CompartmentId, LockerId } from '../ids.js';

export const CompartmentState = Type.Union(['free', 'reserved', 'occupied', 'out_of_service'].map((s) => Type.Literal(s)));

export const CompartmentView = Type.Object({
  id: Type.String(),
  size: CompartmentSize,
  state: CompartmentState,
  inService: Type.Boolean(),
  parcelId: Type.Union([Type.String(), Type.Null()]),
});
export type CompartmentView = Static<typeof CompartmentView>;

/** The latest telemetry the locker sent with a heartbeat; null before the first one. */
export const TelemetryView = Type.Union([
  Type.Object({
    /** When the server received it. */
    at: Type.Integer(),
    firmwareVersion: Type.Union([Type.String(), Type.Null()]),
    temperatureC: Type.Union([Type.Number(), Type.Null()]),
    power: Type.Union([
      Type.Object({ source: Type.Union([Type.Literal('mains'), Type.Literal('battery')]), batteryPct: Type.Union([Type.Integer(), Type.Null()]) }),
      Type.Null(),
    ]),
  }),
  Type.Null(),
]);
export type TelemetryView = Static<typeof TelemetryView>;

export const LockerView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  location: Type.Object({ lat: Type.Number(), lon: Type.Number() }),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
  desiredVersion: Type.Integer(),
  reportedVersion: Type.Integer(),
  /** Device events committed from this locker: how many, and the highest seq. */
  events: Type.Object({ received: Type.Integer(), lastSeq: Type.Integer() }),
  compartments: Type.Array(CompartmentView),
  /** Always sent; optional in the type so that views built by hand (tests, simulator) need not invent one. */
  telemetry: Type.Optional(TelemetryView),
});
export type LockerView = Static<typeof LockerView>;

/** POST /v1/lockers */
export const RegisterLockerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    location: Type.Object(
      { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
      { additionalProperties: false },
    ),
    /** `low`: the compartment sits low, reachable from a wheelchair (bookings may ask `accessible: true`). */
    compartments: Type.Array(Type.Object({ id: CompartmentId, size: CompartmentSize, low: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 512,
    }),
  },
  { additionalProperties: false },
);
export type RegisterLockerBody = Static<typeof RegisterLockerBody>;

/** What the operator hands the locker's controller: a single-use enrolment token, shown only here. */
export const EnrolmentTicket = Type.Object({
  lockerId: Type.String(),
  token: Type.String(),
  expiresAt: Type.Integer(),
});
export type EnrolmentTicket = Static<typeof EnrolmentTicket>;

/** The answer to a registration: the locker and its controller's enrolment ticket. */
export const RegisteredLockerView = Type.Intersect([LockerView, Type.Object({ enrolment: EnrolmentTicket })]);
export type RegisteredLockerView = Static<typeof RegisteredLockerView>;

/** POST /v1/enrol: a device exchanges its single-use token for its identity. */
export const EnrolBody = Type.Object(
  { lockerId: LockerId, token: Type.String({ minLength: 10, maxLength: 200 }), publicKey: DevicePublicKey },
  { additionalProperties: false },
);
export type EnrolBody = Static<typeof EnrolBody>;

export const EnrolView = Type.Object({
  lockerId: Type.String(),
  mqttUrl: Type.String(),
  lastSeq: Type.Integer(),
  // Only with a broker that keeps its own accounts (Mosquitto dynamic security): shown once.
  broker: Type.Optional(Type.Object({ username: Type.String(), password: Type.String() })),
});
export type EnrolView = Static<typeof EnrolView>;

// Retiring a locker (issue 16).
/** POST /v1/lockers/:id/retire */
export const RetireLockerBody = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false });
export type RetireLockerBody = Static<typeof RetireLockerBody>;
export const RetiredLockerView = Type.Object({
  lockerId: Type.String(),
  /** When it was retired (ms). */
  retiredAt: Type.Integer(),
  /** Live grants of its past parcels revoked by the retirement. */
  grantsRevoked: Type.Integer(),
});
export type RetiredLockerView = Static<typeof RetiredLockerView>;
