import { DeliveryList, DeliveryQuery, DeliveryView, WebhookBody, WebhookDeleteView, WebhookPutView, WebhookView } from '../../shared/api/webhooks.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { addressPolicy } from './address-policy.js';
import { findDelivery, listDeliveries, retryDelivery } from './delivery-store.js';
import { deleteWebhook, getWebhook, putWebhook } from './webhook-endpoints.js';
import { deliveryView, webhookView } from './webhook-views.js';
const ADMIN = { roles: ['admin'] };
const CARRIER = { roles: ['carrier'] };
const ADMIN_OR_CARRIER = { roles: ['admin', 'carrier'] };
const endpointErrors = { 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, ...authErrors };
/** A carrier acts only on its own deliveries (another's read as not found); an admin on any. */
function deliveryScope(request) {
    const p = principalOf(request);
    return p.role === 'carrier' ? p.id : undefined;
}
/**
 * Webhook endpoints and their deliveries. Admins manage any carrier account's endpoint
 * (`/v1/accounts/:id/webhook`); a carrier manages its own (`/v1/me/webhook`). Operators have no access: the
 * deliveries carry recipients' pickup codes. Deliveries: admins see all, carriers their own.
 */
export const webhookRoutes = async (app, { ctx }) => {
    const { db, clock, log } = ctx;
    const addresses = addressPolicy(ctx.config.webhookAllowPrivate);
    async function put(request, accountId, body) {
        const { row, generatedSecret } = await putWebhook(db, accountId, body, clock.now(), addresses);
        request.log.info({ accountId, by: principalOf(request).id, secretGenerated: generatedSecret !== undefined }, 'webhook set');
        return { ...webhookView(row), ...(generatedSecret ? { secret: generatedSecret } : {}) };
    }
    async function remove(request, accountId) {
        const { deadLettered } = await deleteWebhook(db, accountId, clock.now());
        request.log.info({ accountId, by: principalOf(request).id, deadLettered }, 'webhook removed');
        return { accountId, deleted: true, deadLettered };
    }
    // An admin on any carrier account.
    app.put('/v1/accounts/:id/webhook', { config: ADMIN, schema: { params: IdParams, body: WebhookBody, response: { 200: WebhookPutView, ...endpointErrors } } }, async (request) => put(request, request.params.id, request.body));
    app.get('/v1/accounts/:id/webhook', { config: ADMIN, schema: { params: IdParams, response: { 200: WebhookView, ...endpointErrors } } }, async (request) => webhookView(await getWebhook(db, request.params.id)));
    app.delete('/v1/accounts/:id/webhook', { config: ADMIN, schema: { params: IdParams, response: { 200: WebhookDeleteView, ...endpointErrors } } }, async (request) => remove(request, request.params.id));
    // A carrier on its own account.
    app.put('/v1/me/webhook', { config: CARRIER, schema: { body: WebhookBody, response: { 200: WebhookPutView, ...endpointErrors } } }, async (request) => put(request, principalOf(request).id, request.body));
    app.get('/v1/me/webhook', { config: CARRIER, schema: { response: { 200: WebhookView, ...endpointErrors } } }, async (request) => webhookView(await getWebhook(db, principalOf(request).id)));
    app.delete('/v1/me/webhook', { config: CARRIER, schema: { response: { 200: WebhookDeleteView, ...endpointErrors } } }, async (request) => remove(request, principalOf(request).id));
    app.get('/v1/webhooks/deliveries', {
        config: ADMIN_OR_CARRIER,
        schema: { querystring: DeliveryQuery, response: { 200: DeliveryList, ...authErrors } },
    }, async (request) => {
        const scope = deliveryScope(request);
        const { state, accountId, parcelId, limit } = request.query;
        if (scope !== undefined && accountId !== undefined && accountId !== scope)
            return { deliveries: [] };
        const rows = await listDeliveries(db, { accountId: scope ?? accountId, state, parcelId, limit: Math.min(Number(limit ?? 100), 1000) });
        return { deliveries: rows.map(deliveryView) };
    });
    app.get('/v1/webhooks/deliveries/:id', { config: ADMIN_OR_CARRIER, schema: { params: IdParams, response: { 200: DeliveryView, 404: ErrorResponse, ...authErrors } } }, async (request) => deliveryView(await findDelivery(db, request.params.id, deliveryScope(request))));
    app.post('/v1/webhooks/deliveries/:id/retry', { config: ADMIN_OR_CARRIER, schema: { params: IdParams, response: { 200: DeliveryView, ...endpointErrors } } }, async (request) => {
        const row = await retryDelivery(db, request.params.id, clock.now(), deliveryScope(request));
        log.info({ deliveryId: row.id, accountId: row.account_id, by: principalOf(request).id }, 'webhook delivery retried by hand');
        return deliveryView(row);
    });
};
//# sourceMappingURL=webhook-routes.js.map