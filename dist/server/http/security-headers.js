/**
 * The headers every response carries: `X-Content-Type-Options: nosniff`, so a browser never takes a JSON body or
 * an error page for a script or a page of another type, and HSTS when configured.
 */
export function securityHeaders(settings) {
    return Object.freeze({
        'x-content-type-options': 'nosniff',
        ...(settings.hstsMaxAgeSec > 0 ? { 'strict-transport-security': `max-age=${settings.hstsMaxAgeSec}` } : {}),
    });
}
/**
 * Adds them to whatever answers (a route, the error handler, the 404 handler, a rate limit, the dashboard's static
 * files) in an onSend hook, so no reply skips them. Errors the router raises before any route bypass the hooks:
 * the app's `frameworkErrors` handler sets the same headers itself.
 */
export function registerSecurityHeaders(app, headers) {
    app.addHook('onSend', async (_request, reply, payload) => {
        reply.headers(headers);
        return payload;
    });
}
//# sourceMappingURL=security-headers.js.map