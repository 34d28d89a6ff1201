import type { Role } from '../../shared/api/accounts.js';
import type { Method } from './api-helpers.js';

// The role matrix of test/security/api-roles.test.ts: every route, who may call it, and the public ones.

/**
 * Every route with the roles it admits. Requests of an admitted role fail later (unknown id, bad body) so
 * that the matrix changes nothing; rotation is exercised in its own test.
 */
export const ROUTES: { method: Method; url: string; roles: Role[]; payload?: unknown; skipAdmitted?: boolean }[] = [
  { method: 'POST', url: '/v1/lockers', roles: ['admin', 'operator'], payload: { name: '' } },
  { method: 'GET', url: '/v1/lockers', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/lockers/lk_nope', roles: ['admin', 'operator', 'carrier'] },
  {
    method: 'POST',
    url: '/v1/parcels',
    roles: ['admin', 'carrier'],
    payload: { lockerId: 'lk_nope', size: 'S', recipient: { email: 'r@x.example' }, reference: 'R' },
  },
  { method: 'GET', url: '/v1/parcels/p_nope', roles: ['admin', 'operator', 'carrier'] },
  { method: 'GET', url: '/v1/parcels/p_nope/notifications', roles: ['admin', 'carrier'] },
  { method: 'POST', url: '/v1/parcels/p_nope/cancel', roles: ['admin', 'carrier'] },
  { method: 'POST', url: '/v1/lockers/lk_nope/commands', roles: ['admin', 'operator'], payload: {} },
  { method: 'GET', url: '/v1/lockers/lk_nope/commands', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/commands/cmd_nope', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/remote-open-requests', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/remote-open-requests/ro_nope/approve', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/alarms', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/accounts', roles: ['admin'], payload: { name: '', role: 'carrier' } },
  { method: 'GET', url: '/v1/accounts', roles: ['admin'] },
  { method: 'GET', url: '/v1/accounts/acc_nope', roles: ['admin'] },
  { method: 'POST', url: '/v1/accounts/acc_nope/tokens', roles: ['admin'] },
  { method: 'POST', url: '/v1/accounts/acc_nope/tokens/tok_nope/revoke', roles: ['admin'] },
  { method: 'POST', url: '/v1/accounts/acc_nope/disable', roles: ['admin'] },
  { method: 'POST', url: '/v1/admin/rotate-token', roles: ['admin'], skipAdmitted: true },
  { method: 'GET', url: '/v1/admin/keys', roles: ['admin'] },
  { method: 'POST', url: '/v1/admin/keys/rotate', roles: ['admin'], skipAdmitted: true },
  { method: 'POST', url: '/v1/admin/keys/kid_nope/activate', roles: ['admin'] },
  { method: 'POST', url: '/v1/admin/keys/kid_nope/retire', roles: ['admin'] },
  { method: 'GET', url: '/v1/alarms/al_nope', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/alarms/al_nope/acknowledge', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/alarms/al_nope/resolve', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/audit', roles: ['admin'] },
  { method: 'GET', url: '/v1/fleet', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/live', roles: ['admin', 'operator'], skipAdmitted: true },
  { method: 'GET', url: '/v1/lockers/lk_nope/events', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/lockers/lk_nope/re-enrol', roles: ['admin'] },
  { method: 'POST', url: '/v1/lockers/lk_nope/deposit-sessions', roles: ['admin', 'carrier'], payload: { parcelIds: ['p_nope'] } },
  { method: 'GET', url: '/v1/parcels', roles: ['admin', 'operator', 'carrier'] },
  { method: 'GET', url: '/v1/parcels/p_nope/timeline', roles: ['admin', 'operator', 'carrier'] },
  { method: 'POST', url: '/v1/parcels/p_nope/extend', roles: ['admin', 'operator', 'carrier'] },
  { method: 'PUT', url: '/v1/accounts/acc_nope/webhook', roles: ['admin'], payload: {} },
  { method: 'GET', url: '/v1/accounts/acc_nope/webhook', roles: ['admin'] },
  { method: 'DELETE', url: '/v1/accounts/acc_nope/webhook', roles: ['admin'] },
  { method: 'PUT', url: '/v1/me/webhook', roles: ['carrier'], payload: {} },
  { method: 'GET', url: '/v1/me/webhook', roles: ['carrier'] },
  { method: 'DELETE', url: '/v1/me/webhook', roles: ['carrier'] },
  { method: 'GET', url: '/v1/webhooks/deliveries', roles: ['admin', 'carrier'] },
  { method: 'GET', url: '/v1/webhooks/deliveries/wd_nope', roles: ['admin', 'carrier'] },
  { method: 'POST', url: '/v1/webhooks/deliveries/wd_nope/retry', roles: ['admin', 'carrier'] },
  // Integrators (issue 16, api).
  { method: 'POST', url: '/v1/lockers/lk_nope/retire', roles: ['admin'] },
  // Operator sign-in (issue 19): with a bearer token these answer SESSION_REQUIRED, ACCOUNT_NOT_FOUND or 400.
  { method: 'GET', url: '/v1/session', roles: ['admin', 'operator'] },
  { method: 'DELETE', url: '/v1/session', roles: ['admin', 'operator'] },
  { method: 'POST', url: '/v1/session/revoke-all', roles: ['admin', 'operator'] },
  { method: 'PUT', url: '/v1/me/password', roles: ['admin', 'operator'], payload: {} },
  { method: 'POST', url: '/v1/me/totp', roles: ['admin', 'operator'], skipAdmitted: true },
  { method: 'POST', url: '/v1/me/totp/confirm', roles: ['admin', 'operator'], payload: {} },
  { method: 'POST', url: '/v1/me/totp/remove', roles: ['admin', 'operator'], payload: {} },
  { method: 'POST', url: '/v1/accounts/acc_nope/password', roles: ['admin'], payload: { password: 'long enough password' } },
  { method: 'POST', url: '/v1/accounts/acc_nope/role', roles: ['admin'], payload: { role: 'operator' } },
  { method: 'POST', url: '/v1/accounts/acc_nope/sessions/revoke', roles: ['admin'] },
  { method: 'POST', url: '/v1/accounts/acc_nope/totp/remove', roles: ['admin'] },
  // Firmware, rollouts and remote diagnostics (issue 19): rollouts admin only; diagnostics like remote opens.
  { method: 'POST', url: '/v1/firmware', roles: ['admin'], payload: {} },
  { method: 'GET', url: '/v1/firmware', roles: ['admin'] },
  { method: 'POST', url: '/v1/rollouts', roles: ['admin'], payload: {} },
  { method: 'GET', url: '/v1/rollouts', roles: ['admin'] },
  { method: 'GET', url: '/v1/rollouts/ro_nope', roles: ['admin'] },
  { method: 'GET', url: '/v1/rollouts/ro_nope/lockers', roles: ['admin'] },
  { method: 'POST', url: '/v1/rollouts/ro_nope/pause', roles: ['admin'], payload: {} },
  { method: 'POST', url: '/v1/rollouts/ro_nope/resume', roles: ['admin'], payload: {} },
  { method: 'POST', url: '/v1/rollouts/ro_nope/abort', roles: ['admin'], payload: {} },
  { method: 'POST', url: '/v1/rollouts/ro_nope/rollback', roles: ['admin'], payload: {} },
  { method: 'PUT', url: '/v1/lockers/lk_nope/timezone', roles: ['admin'], payload: {} },
  { method: 'POST', url: '/v1/lockers/lk_nope/diagnostics', roles: ['admin', 'operator'], payload: {} },
  { method: 'GET', url: '/v1/lockers/lk_nope/diagnostics/ro_nope', roles: ['admin', 'operator'] },
  // Listing and history (cockpit):
  { method: 'GET', url: '/v1/lockers/export.csv', roles: ['admin', 'operator'], skipAdmitted: true }, // CSV, not JSON: test/server/listing.test.ts
  { method: 'GET', url: '/v1/history', roles: ['admin', 'operator'] },
  { method: 'GET', url: '/v1/dashboard/settings', roles: ['admin', 'operator'] },
];

/** Routes that need no bearer token, each for a stated reason (checked in their own tests). */
export const PUBLIC = new Set([
  'GET /healthz', // liveness
  'GET /readyz', // readiness
  'GET /.well-known/jwks.json', // public keys
  'POST /v1/enrol', // answers to the single-use enrolment token in its body
  'GET /dashboard', // static page; its data comes from the API with a token
  'GET /dashboard/*',
  'GET /metrics', // admin/operator or the metrics token: test/observability
  // The API document and its reference page (issue 16): they describe the API and hold no data (test/server/openapi*.test.ts).
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/*',
  'GET /docs/json',
  'GET /docs/yaml',
  'POST /v1/session', // sign-in: name and password in the body (test/accounts/sessions.test.ts)
  // Firmware and diagnostics (issue 19): a locker's links from its own command (HMAC, expiry): test/firmware
  'GET /v1/device/updates/:commandId/artefact',
  'POST /v1/device/updates/:commandId/report',
  'POST /v1/device/diagnostics/:id',
]);
