import { Type, type Static } from '@sinclair/typebox';
import { WEBHOOK_DELIVERY_STATES, type WebhookDeliveryRow, type WebhookRow } from '../store/schema.js';
import { PARCEL_EVENT_TYPES } from './parcel-events.js';

export const DeliveryStateSchema = Type.Union(WEBHOOK_DELIVERY_STATES.map((s) => Type.Literal(s)));
export const EventTypeSchema = Type.Union(PARCEL_EVENT_TYPES.map((t) => Type.Literal(t)));

export const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** Printable ASCII without spaces; when absent, the server makes one and returns it once. */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' })),
  },
  { additionalProperties: false },
);

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

export function webhookView(row: WebhookRow): WebhookView {
  return { accountId: row.account_id, url: row.url, createdAt: row.created_at, updatedAt: row.updated_at };
}

export const DeliveryView = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  eventType: EventTypeSchema,
  parcelId: Type.String(),
  state: DeliveryStateSchema,
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

export function deliveryView(row: WebhookDeliveryRow): DeliveryView {
  return {
    id: row.id,
    accountId: row.account_id,
    eventType: row.event_type as DeliveryView['eventType'],
    parcelId: row.parcel_id,
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    carriesCode: row.grant_jti !== null,
  };
}

export const DeliveryQuery = Type.Object(
  {
    state: Type.Optional(DeliveryStateSchema),
    /** Admins: one account's deliveries. Carriers always see only their own. */
    accountId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    parcelId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** How many, newest first (default 100, at most 1000). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  },
  { additionalProperties: false },
);
