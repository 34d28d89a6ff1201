import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../server/config.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const YEAR = 365 * 24 * 3600;

/** Requests answered by every part of the pipeline: routes, auth, validation, the error handler, 404s, static files. */
function requests(adminToken: string) {
  const admin = { authorization: `Bearer ${adminToken}` };
  return [
    { name: 'health', method: 'GET' as const, url: '/healthz', status: 200 },
    { name: 'a JSON route', method: 'GET' as const, url: '/v1/lockers', headers: admin, status: 200 },
    { name: 'no token', method: 'GET' as const, url: '/v1/lockers', status: 401 },
    { name: 'a coded domain error', method: 'GET' as const, url: '/v1/lockers/lk_nope', headers: admin, status: 404 },
    { name: 'no such route', method: 'GET' as const, url: '/v1/nothing-here', headers: admin, status: 404 },
    { name: 'malformed JSON', method: 'POST' as const, url: '/v1/parcels', headers: { ...admin, 'content-type': 'application/json' }, payload: '{', status: 400 },
    { name: 'a body that fails validation', method: 'POST' as const, url: '/v1/parcels', headers: admin, payload: { size: 'XXL' }, status: 400 },
    { name: 'bad percent-encoding (router error)', method: 'GET' as const, url: '/v1/lockers/%zz', headers: admin, status: 400 },
    { name: 'the dashboard page', method: 'GET' as const, url: '/dashboard/', status: 200 },
    { name: 'a dashboard script', method: 'GET' as const, url: '/dashboard/js/app.js', status: 200 },
    { name: 'a missing dashboard file', method: 'GET' as const, url: '/dashboard/nope.js', status: 404 },
    { name: 'the dashboard redirect', method: 'GET' as const, url: '/dashboard', status: 301 },
  ];
}

describe('security headers on every response', () => {
  let plain: TestServer;
  let behindTls: TestServer;
  beforeAll(async () => {
    [plain, behindTls] = await Promise.all([startTestServer(), startTestServer({ hstsMaxAgeSec: YEAR, rateLimitAnonymousPerMinute: 20 })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), behindTls?.close()]);
  });

  it('by default: X-Content-Type-Options nosniff everywhere, and no HSTS (the server itself speaks plain HTTP)', async () => {
    for (const r of requests(plain.server.adminToken)) {
      const res = await plain.server.app.inject(r);
      expect(res.statusCode, r.name).toBe(r.status);
      expect(res.headers['x-content-type-options'], r.name).toBe('nosniff');
      expect(res.headers['strict-transport-security'], r.name).toBeUndefined();
    }
  });

  it('with HSTS_MAX_AGE_SEC set: Strict-Transport-Security on every response, errors and static files included', async () => {
    for (const r of requests(behindTls.server.adminToken)) {
      const res = await behindTls.server.app.inject(r);
      expect(res.statusCode, r.name).toBe(r.status);
      expect(res.headers['x-content-type-options'], r.name).toBe('nosniff');
      expect(res.headers['strict-transport-security'], r.name).toBe(`max-age=${YEAR}`);
    }
    // A 304 for a cached dashboard file, and the live stream (over a real socket: it never ends by itself).
    const script = await behindTls.server.app.inject({ url: '/dashboard/js/app.js' });
    const cached = await behindTls.server.app.inject({ url: '/dashboard/js/app.js', headers: { 'if-none-match': String(script.headers.etag) } });
    expect(cached.statusCode).toBe(304);
    expect(cached.headers['strict-transport-security']).toBe(`max-age=${YEAR}`);
    const abort = new AbortController();
    const live = await fetch(`${behindTls.httpUrl}/v1/live`, { headers: { authorization: `Bearer ${behindTls.server.adminToken}` }, signal: abort.signal });
    expect(live.status).toBe(200);
    expect([live.headers.get('x-content-type-options'), live.headers.get('strict-transport-security')]).toEqual(['nosniff', `max-age=${YEAR}`]);
    abort.abort();
  });

  it('a rate-limited answer carries them too', async () => {
    let res;
    for (let i = 0; i < 40; i++) {
      res = await behindTls.server.app.inject({ url: '/v1/lockers', headers: { authorization: 'Bearer not-a-token' } });
      if (res.statusCode === 429) break;
    }
    expect(res?.statusCode).toBe(429);
    expect(res?.headers['x-content-type-options']).toBe('nosniff');
    expect(res?.headers['strict-transport-security']).toBe(`max-age=${YEAR}`);
  });

  it('HSTS_MAX_AGE_SEC is validated: a whole number of seconds, 0 (off, the default) up to two years', () => {
    expect(configFromEnv({}).hstsMaxAgeSec).toBe(0);
    expect(configFromEnv({ HSTS_MAX_AGE_SEC: '31536000' }).hstsMaxAgeSec).toBe(31_536_000);
    expect(() => configFromEnv({ HSTS_MAX_AGE_SEC: '-1' })).toThrow(/HSTS_MAX_AGE_SEC/);
    expect(() => configFromEnv({ HSTS_MAX_AGE_SEC: 'a year' })).toThrow(/HSTS_MAX_AGE_SEC/);
    expect(() => configFromEnv({ HSTS_MAX_AGE_SEC: String(3 * YEAR) })).toThrow(/HSTS_MAX_AGE_SEC/);
  });
});
