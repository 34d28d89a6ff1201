import { Type, type Static } from '@sinclair/typebox';

/**
 * Parcel events a carrier gets as webhooks. `expired` and `returned` are for the expiry and collection flow;
 * `dropoff_code` gives a sender booking's drop-off code (for the sender), and any booking's new drop-off QR after
 * a re-booking (cause `compartment_taken`, same PIN); `reminder`, `extended`,
 * `window_paused` and `window_resumed` follow the pickup window.
 */
export const PARCEL_EVENT_TYPES = [
  'parcel.booked',
  'parcel.dropoff_code',
  'parcel.deposited',
  'parcel.picked_up',
  'parcel.cancelled',
  'parcel.expired',
  'parcel.returned',
  'parcel.reminder',
  'parcel.extended',
  'parcel.window_paused',
  'parcel.window_resumed',
] as const;
export const ParcelEventType = Type.Union(PARCEL_EVENT_TYPES.map((t) => Type.Literal(t)));
export type ParcelEventType = (typeof PARCEL_EVENT_TYPES)[number];

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export const WebhookDeliveryState = Type.Union(WEBHOOK_DELIVERY_STATES.map((s) => Type.Literal(s)));
export type WebhookDeliveryState = (typeof WEBHOOK_DELIVERY_STATES)[number];

/** PUT /v1/accounts/:id/webhook, PUT /v1/me/webhook */
export const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** Printable ASCII without spaces; when absent, the server makes one and returns it once. */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' })),
  },
  { additionalProperties: false },
);
export type WebhookBody = Static<typeof WebhookBody>;

/** An endpoint as shown: never its secret. */
export const WebhookView = Type.Object({
  accountId: Type.String(),
  url: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type WebhookView = Static<typeof WebhookView>;

/** The answer to a PUT: the secret appears only when the server generated it, and only here. */
export const WebhookPutView = Type.Intersect([WebhookView, Type.Object({ secret: Type.Optional(Type.String()) })]);
export type WebhookPutView = Static<typeof WebhookPutView>;

/** The answer to a DELETE: pending deliveries of the endpoint are dead-lettered. */
export const WebhookDeleteView = Type.Object({ accountId: Type.String(), deleted: Type.Literal(true), deadLettered: Type.Integer() });
export type WebhookDeleteView = Static<typeof WebhookDeleteView>;

export const DeliveryView = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  eventType: ParcelEventType,
  parcelId: Type.String(),
  state: WebhookDeliveryState,
  attempts: Type.Integer(),
  createdAt: Type.Integer(),
  /** Pending only: when the next attempt is due. */
  nextAttemptAt: Type.Union([Type.Integer(), Type.Null()]),
  lastAttemptAt: Type.Union([Type.Integer(), Type.Null()]),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: Type.Union([Type.Integer(), Type.Null()]),
  /** The event as sent, except its code (`carriesCode`: the sent body had a pickup or collection code). */
  payload: Type.Record(Type.String(), Type.Unknown()),
  carriesCode: Type.Boolean(),
});
export type DeliveryView = Static<typeof DeliveryView>;

export const DeliveryList = Type.Object({ deliveries: Type.Array(DeliveryView) });
export type DeliveryList = Static<typeof DeliveryList>;

/** Query of GET /v1/webhooks/deliveries. */
export const DeliveryQuery = Type.Object(
  {
    state: Type.Optional(WebhookDeliveryState),
    /** Admins: one account's deliveries. Carriers always see only their own. */
    accountId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    parcelId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** How many, newest first (default 100, at most 1000). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuery>;
