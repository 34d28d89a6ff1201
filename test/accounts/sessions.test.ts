import { createHash } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyRequest } from 'fastify';
import { cookieIsSecure } from '../../server/http/session-cookie.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { totpCode } from '../../server/accounts/totp.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { createAccount } from '../security/api-helpers.js';
import { accountWithPassword, send, signInAs } from './session-helpers.js';

const PASSWORD = 'correct horse battery staple';
const LOCKER = { name: 'Session locker', location: { lat: 52.2, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }] };

describe('operator sign-in with cookies', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
  const lines: string[] = [];
  let t: TestServer;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    t = await startTestServer(
      { passwordScryptLogN: 10, signInMaxFailures: 3, signInAddressMaxFailures: 8, signInLockoutSec: 600, sessionIdleSec: 1800, sessionMaxSec: 4 * 3600 },
      clock,
      pino({ level: 'trace' }, sink),
    );
  });
  afterAll(() => t.close());

  it('an admin sets a password that meets the policy, only for operators and admins; the hash alone is stored', async () => {
    const op = await createAccount(t, 'operator', 'Night shift');
    const admin = { token: t.server.adminToken };
    const weak = async (password: string) => (await send(t, 'POST', `/v1/accounts/${op.id}/password`, admin, { password })).body.error;
    expect(await weak('short')).toMatchObject({ code: 'PASSWORD_TOO_WEAK', details: { problem: 'too_short' } });
    expect(await weak('my night shift password')).toMatchObject({ code: 'PASSWORD_TOO_WEAK', details: { problem: 'contains_name' } });
    const carrier = await createAccount(t, 'carrier', 'Carrier X');
    const refused = await send(t, 'POST', `/v1/accounts/${carrier.id}/password`, admin, { password: PASSWORD });
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'PASSWORD_NOT_ALLOWED']);
    const set = await send(t, 'POST', `/v1/accounts/${op.id}/password`, admin, { password: PASSWORD });
    expect([set.status, set.body]).toEqual([200, { sessionsEnded: 0 }]);
    const row = await t.server.ctx.db.selectFrom('account_credentials').selectAll().where('account_id', '=', op.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$scrypt\$ln=10,r=8,p=3\$/);
    expect(JSON.stringify(row)).not.toContain('horse');
    // A second account of the same name cannot get a password: sign-in names are unique.
    const twin = await createAccount(t, 'operator', 'NIGHT SHIFT');
    expect((await send(t, 'POST', `/v1/accounts/${twin.id}/password`, admin, { password: PASSWORD })).body.error?.code).toBe('ACCOUNT_NAME_TAKEN');
    const listed = await send(t, 'GET', '/v1/accounts', admin);
    const views = listed.body.accounts as { id: string; signIn?: unknown }[];
    expect(views.find((a) => a.id === op.id)?.signIn).toEqual({ password: true, totp: false, activeSessions: 0 });
    expect(views.find((a) => a.id === carrier.id)?.signIn).toBeUndefined();
  });

  it('signs in with name and password: an opaque HttpOnly SameSite=Strict cookie, stored hashed; the cookie works on the API', async () => {
    const s = await signInAs(t, 'night shift', PASSWORD);
    expect(s.setCookie).toMatch(/^lockstep_session=[A-Za-z0-9_-]{43}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    expect(new Date(/Expires=([^;]+)/.exec(s.setCookie)![1]!).getTime()).toBe(Math.floor((clock.now() + 4 * 3600_000) / 1000) * 1000);
    expect(s.body).toMatchObject({ account: { name: 'Night shift', role: 'operator' }, csrfToken: expect.any(String), expiresAt: clock.now() + 4 * 3600_000, idleExpiresAt: clock.now() + 1800_000, totp: false });
    const stored = await t.server.ctx.db.selectFrom('sign_in_sessions').selectAll().execute();
    expect(stored.map((r) => r.id_hash)).toContain(createHash('sha256').update(s.value).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(s.value);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s.cookie })).status).toBe(200);
    const me = await send(t, 'GET', '/v1/session', { cookie: s.cookie });
    expect(me.body).toMatchObject({ account: { name: 'Night shift', role: 'operator' }, csrfToken: s.csrf });
    // A bearer token has no session to describe.
    expect((await send(t, 'GET', '/v1/session', { token: t.server.adminToken })).body.error?.code).toBe('SESSION_REQUIRED');
    // A made-up or altered cookie is no session.
    for (const cookie of ['lockstep_session=' + 'A'.repeat(43), `${s.cookie.slice(0, -1)}${s.cookie.endsWith('A') ? 'B' : 'A'}`, 'lockstep_session=x']) {
      const res = await send(t, 'GET', '/v1/fleet', { cookie });
      expect([res.status, res.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('a state-changing request by cookie needs its own session\'s CSRF token; a bearer token needs none', async () => {
    const s = await signInAs(t, 'Night shift', PASSWORD);
    const other = await signInAs(t, 'Night shift', PASSWORD);
    const before = (await t.server.ctx.db.selectFrom('lockers').select('id').execute()).length;
    for (const csrf of [undefined, '', 'nope', other.csrf, s.csrf.toUpperCase()]) {
      const res = await send(t, 'POST', '/v1/lockers', { cookie: s.cookie, ...(csrf === undefined ? {} : { csrf }) }, LOCKER);
      expect([res.status, res.body.error?.code]).toEqual([403, 'CSRF_TOKEN_INVALID']);
    }
    expect((await t.server.ctx.db.selectFrom('lockers').select('id').execute()).length).toBe(before);
    const ok = await send(t, 'POST', '/v1/lockers', { cookie: s.cookie, csrf: s.csrf }, LOCKER);
    expect(ok.status).toBe(201);
    expect((await send(t, 'DELETE', '/v1/session', { cookie: s.cookie })).body.error?.code).toBe('CSRF_TOKEN_INVALID');
    // Bearer tokens (machines) as before; a cookie sent along does not make a bearer request need a CSRF token.
    expect((await send(t, 'POST', '/v1/lockers', { token: t.server.adminToken, cookie: s.cookie }, LOCKER)).status).toBe(201);
  });

  it('roles are enforced the same by cookie: an operator session may not manage accounts, an admin session may', async () => {
    const op = await signInAs(t, 'Night shift', PASSWORD);
    const refused = await send(t, 'GET', '/v1/accounts', { cookie: op.cookie });
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    const post = await send(t, 'POST', '/v1/accounts', { cookie: op.cookie, csrf: op.csrf }, { name: 'x', role: 'admin' });
    expect([post.status, post.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    await accountWithPassword(t, 'admin', 'Chief', 'the boss passphrase');
    const admin = await signInAs(t, 'Chief', 'the boss passphrase');
    expect((await send(t, 'GET', '/v1/accounts', { cookie: admin.cookie })).status).toBe(200);
    const created = await send(t, 'POST', '/v1/accounts', { cookie: admin.cookie, csrf: admin.csrf }, { name: 'Day shift', role: 'operator' });
    expect(created.status).toBe(201);
    // Carriers are machines: no password, and a session cannot carry the carrier role.
    const demoted = await send(t, 'POST', `/v1/accounts/${created.body.id as string}/role`, { cookie: admin.cookie, csrf: admin.csrf }, { role: 'carrier' });
    expect([demoted.status, demoted.body.role]).toEqual([200, 'carrier']);
  });

  it('a wrong password and an unknown name get the same answer, and both lock their name after 3 failures (423, retry-after)', async () => {
    const wrong = await send(t, 'POST', '/v1/session', { ip: '10.0.0.1' }, { name: 'Night shift', password: 'wrong password here' });
    const unknown = await send(t, 'POST', '/v1/session', { ip: '10.0.0.1' }, { name: 'Nobody here', password: 'wrong password here' });
    expect([wrong.status, wrong.body]).toEqual([401, { error: { code: 'SIGN_IN_FAILED', message: expect.any(String) } }]);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.setCookie).toEqual([]);
    for (const name of ['Night shift', 'Nobody here']) {
      for (let i = 0; i < 2; i++) await send(t, 'POST', '/v1/session', { ip: '10.0.0.2' }, { name, password: 'wrong password here' });
    }
    const lockedReal = await send(t, 'POST', '/v1/session', { ip: '10.0.0.3' }, { name: 'Night shift', password: PASSWORD });
    const lockedUnknown = await send(t, 'POST', '/v1/session', { ip: '10.0.0.3' }, { name: 'nobody HERE', password: PASSWORD });
    for (const res of [lockedReal, lockedUnknown]) {
      expect([res.status, res.body.error?.code, res.headers['retry-after']]).toEqual([423, 'SIGN_IN_LOCKED', '600']);
    }
    clock.advance(600_000);
    await signInAs(t, 'Night shift', PASSWORD, { ip: '10.0.0.3' });
  });

  it('an address with too many failures is refused (429) whatever the name; other addresses are not', async () => {
    clock.advance(1000);
    for (let i = 0; i < 8; i++) await send(t, 'POST', '/v1/session', { ip: '10.9.9.9' }, { name: `guess ${i}`, password: 'wrong password here' });
    // Counters whose period ended (the unknown name locked in the test before) are dropped as new failures come.
    const keys = (await t.server.ctx.db.selectFrom('sign_in_failures').select('key').execute()).map((r) => r.key);
    expect(keys).toContain('address:10.9.9.9');
    expect(keys).not.toContain('name:nobody here');
    const res = await send(t, 'POST', '/v1/session', { ip: '10.9.9.9' }, { name: 'Night shift', password: PASSWORD });
    expect([res.status, res.body.error?.code, res.headers['retry-after']]).toEqual([429, 'SIGN_IN_THROTTLED', '600']);
    await signInAs(t, 'Night shift', PASSWORD, { ip: '10.9.9.10' });
  });

  it('a session ends when idle too long, and at its absolute end however active', async () => {
    clock.advance(600_000);
    const idle = await signInAs(t, 'Night shift', PASSWORD);
    clock.advance(1799_000);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: idle.cookie })).status).toBe(200);
    clock.advance(1799_000);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: idle.cookie })).status).toBe(200);
    clock.advance(1800_000);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: idle.cookie })).body.error?.code).toBe('UNAUTHENTICATED');

    const busy = await signInAs(t, 'Night shift', PASSWORD);
    for (let i = 0; i < 15; i++) {
      clock.advance(15 * 60_000);
      expect((await send(t, 'GET', '/v1/fleet', { cookie: busy.cookie })).status, `after ${(i + 1) * 15} min`).toBe(200);
    }
    clock.advance(15 * 60_000);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: busy.cookie })).status, 'at the absolute end (4 h)').toBe(401);
  });

  it('sign-out ends the session and clears the cookie; revoke-all ends every session of the account, live streams too', async () => {
    const a = await signInAs(t, 'Night shift', PASSWORD);
    const b = await signInAs(t, 'Night shift', PASSWORD);
    const c = await signInAs(t, 'Night shift', PASSWORD);
    const out = await send(t, 'DELETE', '/v1/session', { cookie: a.cookie, csrf: a.csrf });
    expect([out.status, out.body]).toEqual([200, { signedOut: true }]);
    expect(out.setCookie[0]).toMatch(/^lockstep_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: a.cookie })).status).toBe(401);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: b.cookie })).status).toBe(200);

    // The live stream works with the cookie (over real HTTP) and ends when its session is revoked.
    const live = await openLiveWithCookie(t.httpUrl, c.cookie);
    expect(live.status).toBe(200);
    await expect.poll(() => live.events.some((e) => e.event === 'snapshot')).toBe(true);
    const all = await send(t, 'POST', '/v1/session/revoke-all', { cookie: b.cookie, csrf: b.csrf });
    expect(all.body.sessionsEnded).toBeGreaterThanOrEqual(2);
    await live.ended;
    for (const s of [b, c]) expect((await send(t, 'GET', '/v1/fleet', { cookie: s.cookie })).status).toBe(401);
  });

  it('a new password, a disabled account or a role change ends the sessions', async () => {
    const admin = { token: t.server.adminToken };
    const day = await accountWithPassword(t, 'operator', 'Late shift', 'evening duty passphrase');
    const s1 = await signInAs(t, 'Late shift', 'evening duty passphrase');
    // Its own password change keeps the session that made it and ends the others.
    const s2 = await signInAs(t, 'Late shift', 'evening duty passphrase');
    const wrongCurrent = await send(t, 'PUT', '/v1/me/password', { cookie: s1.cookie, csrf: s1.csrf }, { currentPassword: 'not the current one', newPassword: 'a brand new passphrase' });
    expect(wrongCurrent.body.error?.code).toBe('PASSWORD_WRONG');
    const changed = await send(t, 'PUT', '/v1/me/password', { cookie: s1.cookie, csrf: s1.csrf }, { currentPassword: 'evening duty passphrase', newPassword: 'a brand new passphrase' });
    expect(changed.body).toEqual({ sessionsEnded: 1 });
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s1.cookie })).status).toBe(200);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s2.cookie })).status).toBe(401);
    expect((await send(t, 'POST', '/v1/session', {}, { name: 'Late shift', password: 'evening duty passphrase' })).status).toBe(401);

    const reset = await send(t, 'POST', `/v1/accounts/${day.id}/password`, admin, { password: 'set by the admin again' });
    expect(reset.body).toEqual({ sessionsEnded: 1 });
    const s3 = await signInAs(t, 'Late shift', 'set by the admin again');
    expect((await send(t, 'POST', `/v1/accounts/${day.id}/sessions/revoke`, admin)).body).toEqual({ sessionsEnded: 1 });
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s3.cookie })).status).toBe(401);

    const s4 = await signInAs(t, 'Late shift', 'set by the admin again');
    await send(t, 'POST', `/v1/accounts/${day.id}/role`, admin, { role: 'admin' });
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s4.cookie })).status).toBe(401);
    const s5 = await signInAs(t, 'Late shift', 'set by the admin again');
    expect((await send(t, 'GET', '/v1/accounts', { cookie: s5.cookie })).status).toBe(200);
    await send(t, 'POST', `/v1/accounts/${day.id}/disable`, admin);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: s5.cookie })).status).toBe(401);
    const disabled = await send(t, 'POST', '/v1/session', {}, { name: 'Late shift', password: 'set by the admin again' });
    expect(disabled.body.error?.code).toBe('SIGN_IN_FAILED');
  });

  it('TOTP: enrol (secret shown once), confirm with a code, then sign-in needs a code and refuses its replay', async () => {
    clock.advance(3600_000);
    const acc = await accountWithPassword(t, 'operator', 'Second factor', 'two factor passphrase');
    const s = await signInAs(t, 'Second factor', 'two factor passphrase');
    const enrol = await send(t, 'POST', '/v1/me/totp', { cookie: s.cookie, csrf: s.csrf });
    const secret = enrol.body.secret as string;
    expect(enrol.body.uri).toBe(`otpauth://totp/Lockstep:Second%20factor?issuer=Lockstep&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    const row = await t.server.ctx.db.selectFrom('account_credentials').select('totp_secret').where('account_id', '=', acc.id).executeTakeFirstOrThrow();
    expect(row.totp_secret).not.toContain(secret);
    // Not enabled until confirmed: sign-in still needs no code.
    await signInAs(t, 'Second factor', 'two factor passphrase');
    const bad = await send(t, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf }, { code: '000000' === totpCode(secret, clock.now()) ? '111111' : '000000' });
    expect(bad.body.error?.code).toBe('TOTP_CODE_INVALID');
    const confirmed = await send(t, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf }, { code: totpCode(secret, clock.now()) });
    expect(confirmed.body).toEqual({ totp: true });
    expect((await send(t, 'POST', '/v1/me/totp', { cookie: s.cookie, csrf: s.csrf })).body.error?.code).toBe('TOTP_ALREADY_ENABLED');

    const noCode = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'two factor passphrase' });
    expect([noCode.status, noCode.body.error?.code, noCode.setCookie]).toEqual([401, 'TOTP_REQUIRED', []]);
    // The code used to confirm cannot sign in (same step); the next step's code can, once.
    const sameStep = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'two factor passphrase', totp: totpCode(secret, clock.now()) });
    expect(sameStep.body.error?.code).toBe('SIGN_IN_FAILED');
    clock.advance(30_000);
    const code = totpCode(secret, clock.now());
    expect((await signInAs(t, 'Second factor', 'two factor passphrase', { totp: code })).body.totp).toBe(true);
    const replay = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'two factor passphrase', totp: code });
    expect([replay.status, replay.body.error?.code]).toEqual([401, 'SIGN_IN_FAILED']);
    // A wrong code with the right password counts as a failure (no guessing codes without limit).
    const wrongPassword = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'not it at all', totp: code });
    expect(wrongPassword.body).toEqual(replay.body);
    const next = totpCode(secret, clock.now() + 30_000);
    const wrongCode = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'two factor passphrase', totp: next === '123456' ? '654321' : '123456' });
    expect(wrongCode.body).toEqual(replay.body);
    const locked = await send(t, 'POST', '/v1/session', {}, { name: 'Second factor', password: 'two factor passphrase', totp: totpCode(secret, clock.now() + 30_000) });
    expect(locked.body.error?.code).toBe('SIGN_IN_LOCKED');

    // An admin removes a lost second factor.
    clock.advance(600_000);
    const removed = await send(t, 'POST', `/v1/accounts/${acc.id}/totp/remove`, { token: t.server.adminToken });
    expect(removed.body.signIn).toEqual({ password: true, totp: false, activeSessions: expect.any(Number) });
    await signInAs(t, 'Second factor', 'two factor passphrase');

    const text = lines.join('');
    expect(text).toContain('signed in');
    for (const secretText of [secret, 'two factor passphrase', PASSWORD, s.value, s.csrf]) expect(text).not.toContain(secretText);
  });
});

describe('Secure session cookies', () => {
  it('are Secure with the __Host- prefix behind TLS (HSTS configured, SESSION_COOKIE_SECURE=auto)', async () => {
    const t = await startTestServer({ passwordScryptLogN: 10, hstsMaxAgeSec: 86_400 });
    try {
      await accountWithPassword(t, 'operator', 'Secure one', PASSWORD);
      const s = await signInAs(t, 'Secure one', PASSWORD);
      expect(s.setCookie).toMatch(/^__Host-lockstep_session=[A-Za-z0-9_-]{43}; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/);
      expect((await send(t, 'GET', '/v1/fleet', { cookie: s.cookie })).status).toBe(200);
      const out = await send(t, 'DELETE', '/v1/session', { cookie: s.cookie, csrf: s.csrf });
      expect(out.setCookie.some((c) => c.startsWith('__Host-lockstep_session=;') && c.includes('Secure'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('SESSION_COOKIE_SECURE: always and never win over the request; auto follows TLS or HSTS', () => {
    const request = (protocol: string) => ({ protocol }) as FastifyRequest;
    expect(cookieIsSecure(request('http'), 'always', false)).toBe(true);
    expect(cookieIsSecure(request('https'), 'never', true)).toBe(false);
    expect(cookieIsSecure(request('https'), 'auto', false)).toBe(true);
    expect(cookieIsSecure(request('http'), 'auto', true)).toBe(true);
    expect(cookieIsSecure(request('http'), 'auto', false)).toBe(false);
  });
});

/** GET /v1/live with a cookie over real HTTP (the dashboard's way); node:http, as test/dashboard/sse.ts says why. */
function openLiveWithCookie(httpUrl: string, cookie: string): Promise<{ status: number; events: { event: string }[]; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${httpUrl}/v1/live`, { headers: { cookie } }, (res) => {
      const events: { event: string }[] = [];
      const ended = new Promise<void>((done) => res.on('close', done));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const m of chunk.matchAll(/^event: (.*)$/gm)) events.push({ event: m[1]! });
      });
      resolve({ status: res.statusCode ?? 0, events, ended });
    });
    req.on('error', reject);
  });
}
