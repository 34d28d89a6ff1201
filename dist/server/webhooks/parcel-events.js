import { randomUUID } from 'node:crypto';
import { derivePin, pinSourceOf } from '../codes/pins.js';
import { prepareQuery } from '../store/prepared-query.js';
/** The parcel's status once the event happened (the row passed in may still hold the old one). */
const STATUS_AFTER = {
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
const CODE_OF = {
    'parcel.dropoff_code': { action: 'deposit', field: 'dropoffCode' },
    'parcel.deposited': { action: 'pickup', field: 'pickupCode' },
    'parcel.expired': { action: 'collect', field: 'collectionCode' },
    'parcel.reminder': { action: 'pickup', field: 'pickupCode' },
    'parcel.extended': { action: 'pickup', field: 'pickupCode' },
    // Only when the pause made the pickup grant be re-issued (same PIN, new QR): see `withCode`.
    'parcel.window_resumed': { action: 'pickup', field: 'pickupCode' },
};
/** The carrier account behind a parcel's `created_by` (`carrier:<account id>`), if a carrier booked it. */
function carrierAccountOf(createdBy) {
    const colon = createdBy.indexOf(':');
    return colon > 0 && createdBy.slice(0, colon) === 'carrier' ? createdBy.slice(colon + 1) : undefined;
}
/**
 * Puts a parcel event into the webhook outbox of the carrier that booked the parcel, inside the caller's
 * transaction: it commits with the status change or not at all. Nothing is enqueued when the parcel was not
 * booked by a carrier, or its account has no webhook (or is disabled). Returns the event id, if enqueued.
 */
export async function enqueueParcelEvent(trx, parcel, type, at, extra = {}) {
    const accountId = carrierAccountOf(parcel.created_by);
    if (!accountId)
        return undefined;
    const hook = (await activeHook.run(trx, { accountId })).rows[0];
    if (!hook)
        return undefined;
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
    const event = {
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
            ...(type === 'parcel.deposited' ? { recipient: JSON.parse(parcel.recipient) } : {}),
            ...(type === 'parcel.dropoff_code' && parcel.sender ? { sender: JSON.parse(parcel.sender) } : {}),
            ...(extra.window !== undefined ? { window: extra.window } : {}),
            ...(extra.reconciled === true ? { reconciled: true } : {}),
            ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
        },
    };
    await insertDelivery.run(trx, {
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
    });
    return id;
}
// Compiled once (server/store/prepared-query.ts): every parcel event of a carrier runs both.
const activeHook = prepareQuery((db, a) => db
    .selectFrom('webhooks as w')
    .innerJoin('accounts as a', 'a.id', 'w.account_id')
    .select('w.account_id')
    .where('w.account_id', '=', a.accountId)
    .where('a.disabled', '=', 0));
const insertDelivery = prepareQuery((db, row) => db.insertInto('webhook_deliveries').values(row));
/**
 * The exact body sent for a delivery: the stored event, with the code it carries (pickup code of a
 * `parcel.deposited`, collection code of a `parcel.expired`) derived from its grant: PINs are never stored, and
 * derivation gives the same code on every attempt.
 */
export async function deliveryBody(db, pinSecret, pinFormat, row) {
    const event = JSON.parse(row.payload);
    if (row.grant_jti) {
        const grant = await db.selectFrom('grants').select(['jti', 'token', 'pin_jti', 'status']).where('jti', '=', row.grant_jti).executeTakeFirst();
        const field = CODE_OF[row.event_type]?.field;
        if (grant && field) {
            const source = pinSourceOf(grant);
            // Re-issued since (the pickup window moved): same PIN, the QR of the grant the locker now holds.
            const current = grant.status === 'revoked'
                ? await db.selectFrom('grants').select('token').where('pin_jti', '=', source).where('status', '!=', 'revoked').orderBy('exp', 'desc').executeTakeFirst()
                : undefined;
            event.data[field] = { pin: derivePin(pinSecret, source, pinFormat.length, pinFormat.alphabet), qr: current?.token ?? grant.token };
        }
    }
    return JSON.stringify(event);
}
//# sourceMappingURL=parcel-events.js.map