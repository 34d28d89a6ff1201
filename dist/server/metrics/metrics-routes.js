import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { HealthView, ReadyView } from '../../shared/api/health.js';
import { authErrors } from '../http/schemas.js';
/** Whether a bearer token is the configured METRICS_TOKEN (compared in constant time); false when none is set. */
export function metricsTokenMatcher(expected) {
    if (!expected)
        return () => false;
    const want = createHash('sha256').update(expected).digest();
    return (token) => timingSafeEqual(createHash('sha256').update(token).digest(), want);
}
/** The database answers a query in time, and the broker listens. */
export async function checkReadiness(r) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve('failing'), r.timeoutMs ?? 2000).unref());
    const query = sql `select 1 as ok`.execute(r.db).then(() => 'ok', () => 'failing');
    return { database: await Promise.race([query, timeout]), broker: r.brokerListening() ? 'ok' : 'failing' };
}
/**
 * GET /metrics (admin, operator, or the METRICS_TOKEN) in Prometheus text format; GET /healthz and GET /readyz
 * (public: they tell only alive, and ready or not, with the storage's code while writes fail). HTTP requests are
 * timed by the app (createHttpApp's `observeRequest`).
 */
export const metricsRoutes = async (app, { ctx, metrics, brokerListening }) => {
    const readiness = { db: ctx.db, brokerListening };
    app.get('/healthz', { config: { roles: 'public' }, schema: { response: { 200: HealthView } } }, async () => ({ status: 'ok' }));
    app.get('/metrics', { config: { roles: ['admin', 'operator'], metricsToken: true }, schema: { response: { 200: Type.String({ description: 'Prometheus text format' }), ...authErrors } } }, async (_request, reply) => {
        const body = await metrics.registry.metrics();
        return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(body);
    });
    app.get('/readyz', { config: { roles: 'public' }, schema: { response: { 200: ReadyView, 503: ReadyView } } }, async (_request, reply) => {
        const checks = await checkReadiness(readiness);
        // The database may answer a read while every write fails (a full disk): not ready until a write commits.
        const storage = ctx.storage.state;
        if (storage)
            checks.database = 'failing';
        const ready = checks.database === 'ok' && checks.broker === 'ok';
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks, ...(storage ? { reason: storage.failure } : {}) });
    });
};
//# sourceMappingURL=metrics-routes.js.map