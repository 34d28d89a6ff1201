import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import { ManualClock } from '../../shared/clock.js';
import { makeConfig } from '../../server/config.js';
import { createServer } from '../../server/create-server.js';
import type { Role } from '../../shared/api/accounts.js';
import { servedRoutes } from '../helpers/served-routes.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { book, call, createAccount, type CreatedAccount } from './api-helpers.js';
import { PUBLIC, ROUTES } from './api-roles-matrix.js';

const ALL_ROLES: Role[] = ['admin', 'operator', 'carrier'];

describe('API roles', () => {
  let t: TestServer;
  let admin: string;
  let adminAccount: CreatedAccount;
  let operator: CreatedAccount;
  let carrierA: CreatedAccount;
  let carrierB: CreatedAccount;
  let locker: RegisteredLocker;

  beforeAll(async () => {
    // Many bad tokens from one address in a row: lift the per-address limit (tested on its own below).
    t = await startTestServer({ rateLimitAnonymousPerMinute: 10_000 });
    admin = t.server.adminToken;
    adminAccount = await createAccount(t, 'admin', 'second admin');
    operator = await createAccount(t, 'operator', 'night shift');
    carrierA = await createAccount(t, 'carrier', 'Carrier A');
    carrierB = await createAccount(t, 'carrier', 'Carrier B');
    locker = await registerLocker(t.api, [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'A3', size: 'S' },
      { id: 'A4', size: 'S' },
    ]);
  });
  afterAll(() => t.close());

  it('the matrix lists every route the server serves (a new route must state who may call it here)', () => {
    const served = servedRoutes(t.server.app).map((r) => `${r.method} ${r.url}`);
    const listed = new Set(ROUTES.map((r) => `${r.method} ${r.url.replace(/\/(lk|p|acc|tok|cmd|al|kid|wd|ro)_nope/g, '/:id')}`));
    const normal = (route: string) => route.replace(/\/:[A-Za-z]+/g, '/:id');
    const missing = served.filter((r) => !PUBLIC.has(r) && !listed.has(normal(r)));
    expect(served.length).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  it('every route answers 401 UNAUTHENTICATED without a valid token and 403 FORBIDDEN to a role it does not admit', async () => {
    const tokenOf: Record<Role, string[]> = {
      admin: [admin, adminAccount.token],
      operator: [operator.token],
      carrier: [carrierA.token],
    };
    for (const route of ROUTES) {
      for (const token of [undefined, 'wrong-token', `${carrierA.token}x`, '']) {
        const res = await call(t, token, route.method, route.url, route.payload);
        expect({ route: route.url, status: res.status, code: res.body.error?.code }).toEqual({ route: route.url, status: 401, code: 'UNAUTHENTICATED' });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
      for (const role of ALL_ROLES) {
        const admitted = route.roles.includes(role);
        if (admitted && route.skipAdmitted) continue;
        for (const token of tokenOf[role]) {
          const res = await call(t, token, route.method, route.url, route.payload);
          if (admitted) {
            expect([401, 403], `${route.method} ${route.url} as ${role}`).not.toContain(res.status);
          } else {
            expect({ route: route.url, role, status: res.status, code: res.body.error?.code }).toEqual({ route: route.url, role, status: 403, code: 'FORBIDDEN' });
            expect(res.body.error?.details).toEqual({ required: route.roles });
          }
        }
      }
    }
  });

  it('carrier A reading (or cancelling) carrier B’s parcel or its notifications gets PARCEL_NOT_FOUND, as for a parcel that does not exist', async () => {
    const parcelA = await book(t, carrierA.token, locker.id, 'A-1');
    const parcelB = await book(t, carrierB.token, locker.id, 'B-1');

    const own = await call(t, carrierA.token, 'GET', `/v1/parcels/${parcelA}`);
    expect(own.status).toBe(200);
    expect((own.body.history as { sourceRef: string }[])[0]?.sourceRef).toBe(`carrier:${carrierA.id}`);
    expect((await call(t, carrierA.token, 'GET', `/v1/parcels/${parcelA}/notifications`)).status).toBe(200);

    const missing = await call(t, carrierA.token, 'GET', '/v1/parcels/p_0123456789abcdef0123456789abcdef');
    for (const url of [`/v1/parcels/${parcelB}`, `/v1/parcels/${parcelB}/notifications`]) {
      const res = await call(t, carrierA.token, 'GET', url);
      expect(res.status).toBe(404);
      expect(res.body.error?.code).toBe('PARCEL_NOT_FOUND');
      expect(res.body.error?.message).toBe(missing.body.error?.message);
      expect(JSON.stringify(res.body)).not.toContain('B-1');
    }
    // Nor can A cancel it.
    const cancel = await call(t, carrierA.token, 'POST', `/v1/parcels/${parcelB}/cancel`);
    expect([cancel.status, cancel.body.error?.code]).toEqual([404, 'PARCEL_NOT_FOUND']);
    expect((await call(t, admin, 'GET', `/v1/parcels/${parcelB}`)).body.status).toBe('booked');
    // B, the operator and the admins see B's parcel.
    for (const token of [carrierB.token, operator.token, admin, adminAccount.token]) {
      expect((await call(t, token, 'GET', `/v1/parcels/${parcelB}`)).status).toBe(200);
    }
    expect((await call(t, carrierB.token, 'GET', `/v1/parcels/${parcelB}/notifications`)).status).toBe(200);
    expect((await call(t, admin, 'GET', `/v1/parcels/${parcelA}/notifications`)).status).toBe(200);
  });

  it('carriers book into any locker; operators register and read lockers and read parcels but do not book', async () => {
    const other = await call(t, operator.token, 'POST', '/v1/lockers', {
      name: 'Registered by an operator',
      location: { lat: 50, lon: 20 },
      compartments: [{ id: 'Z1', size: 'M' }],
    });
    expect(other.status).toBe(201);
    const parcel = await book(t, carrierB.token, other.body.id as string, 'B-2');
    expect((await call(t, operator.token, 'GET', `/v1/parcels/${parcel}`)).status).toBe(200);
    expect((await call(t, operator.token, 'GET', '/v1/lockers')).status).toBe(200);
    const booking = { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'OP' };
    const refused = await call(t, operator.token, 'POST', '/v1/parcels', booking);
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call(t, operator.token, 'GET', `/v1/parcels/${parcel}/notifications`)).status).toBe(403);
    expect((await call(t, carrierA.token, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
  });

  it('a revoked token and every token of a disabled account are refused with 401; other tokens keep working', async () => {
    const c = await createAccount(t, 'carrier', 'Carrier C');
    const second = await call(t, admin, 'POST', `/v1/accounts/${c.id}/tokens`);
    expect(second.status).toBe(201);
    const secondToken = second.body.token as string;
    expect((await call(t, c.token, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);

    const revoked = await call(t, admin, 'POST', `/v1/accounts/${c.id}/tokens/${c.tokenId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(Number));
    expect((await call(t, c.token, 'GET', `/v1/lockers/${locker.id}`)).body.error?.code).toBe('UNAUTHENTICATED');
    expect((await call(t, secondToken, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);

    const listed = await call(t, admin, 'GET', `/v1/accounts/${c.id}`);
    const tokens = listed.body.tokens as { id: string; revokedAt: number | null }[];
    expect(Object.fromEntries(tokens.map((x) => [x.id, x.revokedAt !== null]))).toEqual({ [c.tokenId]: true, [second.body.id as string]: false });
    expect(JSON.stringify(listed.body)).not.toContain(secondToken);
    // A token id is found only under its own account.
    expect((await call(t, admin, 'POST', `/v1/accounts/${carrierA.id}/tokens/${second.body.id as string}/revoke`)).body.error?.code).toBe('TOKEN_NOT_FOUND');

    const disabled = await call(t, admin, 'POST', `/v1/accounts/${c.id}/disable`);
    expect([disabled.status, disabled.body.disabled]).toEqual([200, true]);
    const after = await call(t, secondToken, 'GET', `/v1/lockers/${locker.id}`);
    expect([after.status, after.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
    const more = await call(t, admin, 'POST', `/v1/accounts/${c.id}/tokens`);
    expect([more.status, more.body.error?.code]).toEqual([409, 'ACCOUNT_DISABLED']);
    expect((await call(t, carrierA.token, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
  });

  it('refuses forged, tampered and foreign tokens with 401', async () => {
    const [h, p, s] = carrierA.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const realSecret = Buffer.from(readFileSync(path.join(t.dir, 'secrets', 'api-token-secret'), 'utf8').trim(), 'base64url');
    const sign = (c: Record<string, unknown>, secret: Uint8Array, header: Record<string, unknown> = { alg: 'HS256', typ: 'at+jwt' }) =>
      new SignJWT(c).setProtectedHeader(header as { alg: string }).sign(secret);
    const nowSec = Math.floor(Date.now() / 1000);
    const booked = await call(t, carrierA.token, 'POST', '/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'QR' });
    const grant = (booked.body.dropoff as { qr: string }).qr;
    const forged = [
      `${h}.${encode({ ...claims, role: 'admin' })}.${s}`, // role raised, signature kept
      `${encode({ alg: 'none', typ: 'at+jwt' })}.${p}.`, // unsigned
      await sign(claims, randomBytes(32)), // another key
      await sign({ ...claims, jti: 'tok_never_issued' }, realSecret), // right key, token id never issued
      await sign({ ...claims, role: 'admin' }, realSecret), // right key, role not the account's
      await sign({ ...claims, sub: carrierB.id }, realSecret), // right key, token id of another account
      await sign({ ...claims, exp: nowSec - 10 }, realSecret), // right key, expired
      await sign(claims, realSecret, { alg: 'HS256' }), // no typ
      await sign({ ...claims, aud: 'something-else' }, realSecret), // another audience
      grant, // a grant (Ed25519 JWS from a QR) is no API token
    ];
    for (const token of forged) {
      const res = await call(t, token, 'GET', `/v1/lockers/${locker.id}`);
      expect([res.status, res.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    expect((await call(t, await sign(claims, realSecret), 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
  });

  it('lists accounts without any token', async () => {
    const res = await call(t, admin, 'GET', '/v1/accounts');
    expect(res.status).toBe(200);
    const accounts = res.body.accounts as { id: string; role: Role; disabled: boolean }[];
    expect(accounts.find((a) => a.id === carrierA.id)).toEqual({ id: carrierA.id, name: 'Carrier A', role: 'carrier', createdAt: expect.any(Number), disabled: false });
    for (const a of [adminAccount, operator, carrierA, carrierB]) expect(JSON.stringify(res.body)).not.toContain(a.token);
  });
});

describe('token expiry and rate limits', () => {
  let t: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  let locker: RegisteredLocker;

  beforeAll(async () => {
    t = await startTestServer({ apiTokenTtlSec: 3600, rateLimitPerMinute: 5, rateLimitAnonymousPerMinute: 3 }, clock);
    locker = await registerLocker(t.api);
  });
  afterAll(() => t.close());

  it('an account over its limit per minute gets 429 RATE_LIMITED; other accounts and the admin do not; the next minute admits it', async () => {
    const x = await createAccount(t, 'carrier', 'X');
    const y = await createAccount(t, 'operator', 'Y');
    const url = `/v1/lockers/${locker.id}`;
    for (let i = 0; i < 5; i++) expect((await call(t, x.token, 'GET', url)).status).toBe(200);
    const limited = await call(t, x.token, 'GET', url);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), details: { retryAfterSec: 60 } } });
    expect(limited.headers['retry-after']).toBe('60');
    // Refused requests of a forbidden role count too: the limit is per account, not per route.
    expect((await call(t, x.token, 'GET', '/v1/lockers')).status).toBe(429);

    expect((await call(t, y.token, 'GET', url)).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await call(t, t.server.adminToken, 'GET', url)).status).toBe(200);

    clock.advance(30_000);
    const later = await call(t, x.token, 'GET', url);
    expect([later.status, later.headers['retry-after']]).toEqual([429, '30']);
    clock.advance(30_000);
    expect((await call(t, x.token, 'GET', url)).status).toBe(200);
  });

  it('requests without a valid token are limited per client address; a valid token from there still works', async () => {
    clock.advance(60_000);
    const c = await createAccount(t, 'carrier', 'from the same address');
    for (const token of [undefined, 'guess-1', 'guess-2']) expect((await call(t, token, 'GET', '/v1/lockers')).status).toBe(401);
    const res = await call(t, 'guess-3', 'GET', '/v1/lockers');
    expect([res.status, res.body.error?.code]).toEqual([429, 'RATE_LIMITED']);
    expect((await call(t, t.server.adminToken, 'GET', '/v1/lockers')).status).toBe(200);
    expect((await call(t, c.token, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
    expect((await call(t, undefined, 'GET', '/healthz')).status).toBe(200);
  });

  it('an expired token is refused with 401; a new one for the account works', async () => {
    clock.advance(60_000);
    const c = await createAccount(t, 'carrier', 'expiring');
    expect((await call(t, c.token, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
    clock.advance(3600_000);
    expect((await call(t, c.token, 'GET', `/v1/lockers/${locker.id}`)).body.error?.code).toBe('UNAUTHENTICATED');
    const fresh = await call(t, t.server.adminToken, 'POST', `/v1/accounts/${c.id}/tokens`);
    expect(fresh.body.expiresAt).toBe(clock.now() + 3600_000);
    expect((await call(t, fresh.body.token as string, 'GET', `/v1/lockers/${locker.id}`)).status).toBe(200);
  });
});

describe('bootstrap admin token rotation', () => {
  it('returns a new token once, refuses the old one at once, replaces the file, and never logs either', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const t = await startTestServer({}, undefined, pino({ level: 'trace' }, sink));
    let stopped = false;
    try {
      const old = t.server.adminToken;
      const carrier = await createAccount(t, 'carrier');
      const res = await call(t, old, 'POST', '/v1/admin/rotate-token');
      expect(res.status).toBe(200);
      const fresh = res.body.token as string;
      expect(fresh).not.toBe(old);
      expect(fresh.length).toBeGreaterThanOrEqual(32);
      expect((await call(t, old, 'GET', '/v1/lockers')).body.error?.code).toBe('UNAUTHENTICATED');
      expect((await call(t, fresh, 'GET', '/v1/lockers')).status).toBe(200);
      expect((await call(t, carrier.token, 'GET', '/v1/parcels/p_nope')).body.error?.code).toBe('PARCEL_NOT_FOUND');
      expect(t.server.adminToken).toBe(fresh);
      const file = path.join(t.dir, 'secrets', 'admin-token');
      expect(readFileSync(file, 'utf8').trim()).toBe(fresh);
      expect(statSync(file).mode & 0o077).toBe(0);

      // A restart on the same data folder keeps the rotated admin token and the account tokens.
      await t.server.stop();
      stopped = true;
      const again = await createServer(makeConfig({ port: 0, mqttPort: 0, dataDir: t.dir, logLevel: 'silent' }));
      try {
        const status = async (token: string) => (await again.app.inject({ url: '/v1/lockers', headers: { authorization: `Bearer ${token}` } })).statusCode;
        expect([await status(fresh), await status(old)]).toEqual([200, 401]);
        expect((await again.app.inject({ url: '/v1/parcels/p_nope', headers: { authorization: `Bearer ${carrier.token}` } })).statusCode).toBe(404);
      } finally {
        await again.stop();
      }
      const text = lines.join('');
      expect(text).toContain('bootstrap admin token rotated');
      const apiSecret = readFileSync(path.join(t.dir, 'secrets', 'api-token-secret'), 'utf8').trim();
      for (const secret of [old, fresh, carrier.token, apiSecret]) expect(text).not.toContain(secret);
    } finally {
      if (!stopped) await t.server.stop();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('answers 409 ADMIN_TOKEN_FROM_ENVIRONMENT when ADMIN_TOKEN is set, and the token keeps working', async () => {
    const token = `env-${'k'.repeat(40)}`;
    const t = await startTestServer({ adminToken: token });
    try {
      const res = await call(t, token, 'POST', '/v1/admin/rotate-token');
      expect([res.status, res.body.error?.code]).toEqual([409, 'ADMIN_TOKEN_FROM_ENVIRONMENT']);
      expect((await call(t, token, 'GET', '/v1/lockers')).status).toBe(200);
      expect(existsSync(path.join(t.dir, 'secrets', 'admin-token'))).toBe(false);
    } finally {
      await t.close();
    }
  });
});
