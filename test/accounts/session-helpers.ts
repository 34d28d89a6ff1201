import { expect } from 'vitest';
import type { TestServer } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { PLAIN_COOKIE, SECURE_COOKIE } from '../../server/http/session-cookie.js';

export interface Reply {
  status: number;
  body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<string, unknown>;
  headers: Record<string, string | string[] | number | undefined>;
  setCookie: string[];
}

export interface As {
  cookie?: string;
  csrf?: string;
  token?: string;
  ip?: string;
}

/** One request through the real pipeline, with a session cookie, a CSRF header, a bearer token, a client address. */
export async function send(t: TestServer, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, as: As = {}, payload?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (as.cookie) headers.cookie = as.cookie;
  if (as.csrf) headers['x-csrf-token'] = as.csrf;
  if (as.token) headers.authorization = `Bearer ${as.token}`;
  const res = await t.server.app.inject({ method, url, headers, remoteAddress: as.ip ?? '127.0.0.1', ...(payload === undefined ? {} : { payload: payload as object }) });
  const raw = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    body: res.body ? (res.json() as Reply['body']) : {},
    headers: res.headers,
    setCookie: raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)],
  };
}

export interface SignedIn {
  /** `name=value`, as a browser sends it back. */
  cookie: string;
  value: string;
  csrf: string;
  setCookie: string;
  body: Reply['body'];
}

/** Signs in and returns the cookie and CSRF token (fails the test when refused). */
export async function signInAs(t: TestServer, name: string, password: string, extra: { totp?: string; ip?: string } = {}): Promise<SignedIn> {
  const res = await send(t, 'POST', '/v1/session', { ip: extra.ip ?? '127.0.0.1' }, { name, password, ...(extra.totp ? { totp: extra.totp } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const setCookie = res.setCookie.find((c) => c.startsWith(`${PLAIN_COOKIE}=`) || c.startsWith(`${SECURE_COOKIE}=`));
  if (!setCookie) throw new Error('no session cookie set');
  const pair = setCookie.split(';')[0]!;
  return { cookie: pair, value: pair.slice(pair.indexOf('=') + 1), csrf: res.body.csrfToken as string, setCookie, body: res.body };
}

/** An account of the role with a password set by the bootstrap admin. */
export async function accountWithPassword(t: TestServer, role: CreatedAccount['role'], name: string, password: string): Promise<CreatedAccount> {
  const account = await createAccount(t, role, name);
  const res = await send(t, 'POST', `/v1/accounts/${account.id}/password`, { token: t.server.adminToken }, { password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return account;
}
