import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import { accountWithPassword, send, signInAs } from './session-helpers.js';

/** Migration 018 on Postgres, and sessions and lockout shared by two server processes of one deployment. */
let servers: TwoServers;

beforeAll(async () => {
  servers = await startTwoServersOnPostgres('sessions');
}, 60_000);

afterAll(async () => {
  await servers?.close();
});

describe('Postgres: sign-in across two servers', () => {
  it('a session made on one server works on the other (same CSRF token), and revoke-all there ends it here', async () => {
    const { a, b } = servers;
    await accountWithPassword(a, 'operator', 'Shared shift', 'one deployment, two processes');
    const s = await signInAs(a, 'Shared shift', 'one deployment, two processes');
    expect((await send(b, 'GET', '/v1/fleet', { cookie: s.cookie })).status).toBe(200);
    const locker = { name: 'PG locker', location: { lat: 52, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }] };
    expect((await send(b, 'POST', '/v1/lockers', { cookie: s.cookie }, locker)).body.error?.code).toBe('CSRF_TOKEN_INVALID');
    expect((await send(b, 'POST', '/v1/lockers', { cookie: s.cookie, csrf: s.csrf }, locker)).status).toBe(201);
    const listed = await send(b, 'GET', '/v1/accounts', { token: b.server.adminToken });
    expect((listed.body.accounts as { name: string; signIn?: { activeSessions: number } }[]).find((x) => x.name === 'Shared shift')?.signIn).toEqual({ password: true, totp: false, activeSessions: 1 });
    expect((await send(b, 'POST', '/v1/session/revoke-all', { cookie: s.cookie, csrf: s.csrf })).body).toEqual({ sessionsEnded: 1 });
    expect((await send(a, 'GET', '/v1/fleet', { cookie: s.cookie })).status).toBe(401);
  });

  it('failures on both servers count towards one lockout of the name', async () => {
    const { a, b } = servers;
    for (let i = 0; i < 5; i++) {
      const res = await send(i % 2 ? b : a, 'POST', '/v1/session', { ip: `10.1.0.${i}` }, { name: 'Shared shift', password: 'not the password at all' });
      expect(res.body.error?.code).toBe('SIGN_IN_FAILED');
    }
    const locked = await send(b, 'POST', '/v1/session', { ip: '10.1.0.9' }, { name: 'Shared shift', password: 'one deployment, two processes' });
    expect([locked.status, locked.body.error?.code]).toEqual([423, 'SIGN_IN_LOCKED']);
  });
});
