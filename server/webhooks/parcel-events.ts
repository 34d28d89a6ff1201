import { randomUUID } from 'node:crypto';
import type { Insertable, Transaction } from 'kysely';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import { derivePin, pinSourceOf } from '../codes/pins.js';
import type { Db } from '../store/database.js';
import type { ParcelStatus } from '../../shared/api/parcels.js';
import type { ParcelEventType } from '../../shared/api/webhooks.js';
import type { Database, ParcelRow, WebhookDeliveryRow } from '../store/schema.js';
import { prepareQuery } from '../store/prepared-query.js';

/** The parcel's status once the event happened (the row passed in may still hold the old one). */
const STATUS_AFTER: Readonly<Record<ParcelEventType, ParcelStatus>> = {
  'parcel.booked': 'booked',
  'parcel.dropoff_code': 'booked',
  'parcel.deposited': 'in_locker',
  'parcel.picked_up': 'picked_up',
  'parcel.cancelled': 'cancelled',
  'parcel.expired': 'expired',
  'parcel.returned': 'returned',
  'parcel.reminder': 'in_locker',
  'parcel.extended': 'in_locker',
  'parcel.window_paused': 'in_locker',
  'parcel.window_resumed': 'in_locker',
};

/** Events that carry a code: the action of the grant it comes from, and where it goes in the body. */
type CodeField = 'pickupCode' | 'collectionCode' | 'dropoffCode';
const CODE_OF: Readonly<Partial<Record<ParcelEventType, { action: 'deposit' | 'pickup' | 'collect'; field: CodeField }>>> = {
  'parcel.dropoff_code': { action: 'deposit', field: 'dropoffCode' },
  'parcel.deposited': { action: 'pickup', field: 'pickupCode' },
  'parcel.expired': { action: 'collect', field: 'collectionCode' },
  'parcel.reminder': { action: 'pickup', field: 'pickupCode' },
  'parcel.extended': { action: 'pickup', field: 'pickupCode' },
  // Only when the pause made the pickup grant be re-issued (same PIN, new QR): see `withCode`.
  'parcel.window_resumed': { action: 'pickup', field: 'pickupCode' },
};

/** The pickup window as events report it. */
export interface WindowInfo {
  /** When the window ends (ms), as it stands after the event. */
  pickupDeadline: number;
  /** `parcel.window_paused`: why (`locker_offline`, `compartment_out_of_service`) and since when. */
  reason?: string;
  pausedSince?: number;
  /** `parcel.window_resumed`: how long it stood still this time (ms). */
  pausedMs?: number;
  /** `parcel.extended`: extensions granted so far. */
  extensions?: number;
  /** `parcel.reminder`: the configured lead time that is due (seconds). */
  leadSec?: number;
}

/** What a caller may add. Other keys (a detail object passed whole) are ignored. */
export interface ParcelEventExtra {
  /** The locker took a parcel that had been cancelled (it was offline when the cancellation was made). */
  reconciled?: boolean | undefined;
  /**
   * Why it happened, where there are several ways (`parcel.cancelled`: `cancelled` by the API, `reservation_expired`;
   * `parcel.dropoff_code`: `compartment_taken` when a re-booking gave the parcel a new compartment and QR).
   */
  cause?: string | undefined;
  /** The pickup window (reminder, extended, paused, resumed). */
  window?: WindowInfo | undefined;
  /** Whether an event that can carry a code carries it (default true). */
  withCode?: boolean | undefined;
  /** The grant the code comes from, when the caller just issued it (saves looking it up). */
  grantJti?: string | undefined;
}

/** The JSON body of a delivery (schema version 1). */
export interface ParcelEvent {
  id: string;
  type: ParcelEventType;
  schemaVersion: 1;
  /** When the change happened: the server's time for an API call, the locker's for a device event (ms). */
  occurredAt: number;
  data: {
    parcel: { id: string; reference: string; kind: string; status: ParcelStatus; lockerId: string; compartmentId: string; size: CompartmentSize };
    /** `parcel.deposited`: who the carrier's system forwards the pickup code to. */
    recipient?: { phone?: string; email?: string };
    /** `parcel.deposited`: the recipient's pickup code; added at send time, never stored in the outbox. */
    pickupCode?: { pin: string; qr: string };
    /** `parcel.expired`: the courier's code to collect the parcel (→ `parcel.returned`); added at send time. */
    collectionCode?: { pin: string; qr: string };
    /** `parcel.dropoff_code`: the drop-off code (a sender's, return or p2p; or any parcel's after a re-booking); added at send time. */
    dropoffCode?: { pin: string; qr: string };
    /** `parcel.dropoff_code`: who the carrier's system forwards the drop-off code to. */
    sender?: { phone?: string; email?: string };
    window?: WindowInfo;
    reconciled?: true;
    cause?: string;
  };
}

/** The carrier account behind a parcel's `created_by` (`carrier:<account id>`), if a carrier booked it. */
function carrierAccountOf(createdBy: string): string | undefined {
  const colon = createdBy.indexOf(':');
  return colon > 0 && createdBy.slice(0, colon) === 'carrier' ? createdBy.slice(colon + 1) : undefined;
}

/**
 * Puts a parcel event into the webhook outbox of the carrier that booked the parcel, inside the caller's
 * transaction: it commits with the status change or not at all. Nothing is enqueued when the parcel was not
 * booked by a carrier, or its account has no webhook (or is disabled). Returns the event id, if enqueued.
 */
export async function enqueueParcelEvent(
  trx: Transaction<Database>,
  parcel: ParcelRow,
  type: ParcelEventType,
  at: number,
  extra: ParcelEventExtra = {},
): Promise<string | undefined> {
  const row = await parcelEventDelivery(trx, parcel, type, at, extra);
  if (row) await insertDeliveries.run(trx, { rows: [row] });
  return row?.id;
}

/** Carrier accounts and whether each has an active webhook, read once per transaction that asks many times. */
export type HookCache = Map<string, boolean>;

/**
 * The webhook outbox row of a parcel event, not inserted (`enqueueParcelEvent` inserts it; a booking group
 * inserts its bookings' rows together): undefined when nothing is to be sent. `hooks` remembers each account's
 * answer within one transaction.
 */
export async function parcelEventDelivery(
  trx: Transaction<Database>,
  parcel: ParcelRow,
  type: ParcelEventType,
  at: number,
  extra: ParcelEventExtra = {},
  hooks?: HookCache,
): Promise<Delivery | undefined> {
  const accountId = carrierAccountOf(parcel.created_by);
  if (!accountId) return undefined;
  let hooked = hooks?.get(accountId);
  if (hooked === undefined) {
    hooked = (await activeHook.run(trx, { accountId })).rows.length > 0;
    hooks?.set(accountId, hooked);
  }
  if (!hooked) return undefined;

  const code = extra.withCode === false ? undefined : CODE_OF[type];
  // The grant the event's code comes from (the newest live one: a reconciled parcel got a new pickup grant).
  const grant = !code
    ? undefined
    : extra.grantJti !== undefined
    ? { jti: extra.grantJti }
    : await trx
        .selectFrom('grants')
        .select('jti')
        .where('parcel_id', '=', parcel.id)
        .where('action', '=', code.action)
        .where('status', '=', 'live')
        .orderBy('exp', 'desc')
        .executeTakeFirst();
  const id = `evt_${randomUUID().replaceAll('-', '')}`;
  const event: ParcelEvent = {
    id,
    type,
    schemaVersion: 1,
    occurredAt: at,
    data: {
      parcel: {
        id: parcel.id,
        reference: parcel.reference,
        kind: parcel.kind,
        status: STATUS_AFTER[type],
        lockerId: parcel.locker_id,
        compartmentId: parcel.compartment_id,
        size: parcel.size,
      },
      ...(type === 'parcel.deposited' ? { recipient: JSON.parse(parcel.recipient) as NonNullable<ParcelEvent['data']['recipient']> } : {}),
      ...(type === 'parcel.dropoff_code' && parcel.sender ? { sender: JSON.parse(parcel.sender) as NonNullable<ParcelEvent['data']['sender']> } : {}),
      ...(extra.window !== undefined ? { window: extra.window } : {}),
      ...(extra.reconciled === true ? { reconciled: true as const } : {}),
      ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
    },
  };
  return {
    id,
    account_id: accountId,
    event_type: type,
    parcel_id: parcel.id,
    payload: JSON.stringify(event),
    grant_jti: grant?.jti ?? null,
    created_at: at,
    attempts: 0,
    next_attempt_at: at,
    state: 'pending',
    last_error: null,
    last_status: null,
    last_attempt_at: null,
    delivered_at: null,
  };
}

// Compiled once (server/store/prepared-query.ts): every parcel event of a carrier runs both.
const activeHook = prepareQuery((db, a: { accountId: string }) =>
  db
    .selectFrom('webhooks as w')
    .innerJoin('accounts as a', 'a.id', 'w.account_id')
    .select('w.account_id')
    .where('w.account_id', '=', a.accountId)
    .where('a.disabled', '=', 0),
);
type Delivery = Insertable<Database['webhook_deliveries']>;
/** One or many outbox rows (a booking group's), compiled once per row count. */
export const insertDeliveries = prepareQuery((db, a: { rows: Delivery[] }) => db.insertInto('webhook_deliveries').values(a.rows));

/**
 * The exact body sent for a delivery: the stored event, with the code it carries (pickup code of a
 * `parcel.deposited`, collection code of a `parcel.expired`) derived from its grant: PINs are never stored, and
 * derivation gives the same code on every attempt.
 */
export async function deliveryBody(db: Db, pinSecret: Uint8Array, pinFormat: { length: number; alphabet: string }, row: WebhookDeliveryRow): Promise<string> {
  const event = JSON.parse(row.payload) as ParcelEvent;
  if (row.grant_jti) {
    const grant = await db.selectFrom('grants').select(['jti', 'token', 'pin_jti', 'status']).where('jti', '=', row.grant_jti).executeTakeFirst();
    const field = CODE_OF[row.event_type as ParcelEventType]?.field;
    if (grant && field) {
      const source = pinSourceOf(grant);
      // Re-issued since (the pickup window moved): same PIN, the QR of the grant the locker now holds.
      const current =
        grant.status === 'revoked'
          ? await db.selectFrom('grants').select('token').where('pin_jti', '=', source).where('status', '!=', 'revoked').orderBy('exp', 'desc').executeTakeFirst()
          : undefined;
      event.data[field] = { pin: derivePin(pinSecret, source, pinFormat.length, pinFormat.alphabet), qr: current?.token ?? grant.token };
    }
  }
  return JSON.stringify(event);
}
