// The API as the signed-in operator. Two ways in: a password sign-in (an HttpOnly session cookie the page never
// sees, plus the session's CSRF token, kept in memory and sent as X-CSRF-Token on every state-changing request),
// or a bearer token (machines, first start), kept in sessionStorage (this tab only) and sent as Authorization.

const KEY = 'lockstep.token';
const SAFE = new Set(['GET', 'HEAD']);

let csrf = null;
let account = null;
let totpEnabled = false;

export const session = {
  /** The bearer token, when signed in with one. */
  get token() {
    return sessionStorage.getItem(KEY);
  },
  /** The CSRF token of the cookie session, when signed in with a password. */
  get csrf() {
    return csrf;
  },
  /** The signed-in account ({ id, name, role }) of a cookie session; null with a token. */
  get account() {
    return account;
  },
  /** Whether the signed-in account has a second factor (from the session; updated when this page turns it on or off). */
  get totpEnabled() {
    return totpEnabled;
  },
  set totpEnabled(on) {
    totpEnabled = on;
  },
  get signedIn() {
    return Boolean(sessionStorage.getItem(KEY) || csrf);
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  /** Takes a SessionView (POST or GET /v1/session). */
  setCookieSession(view) {
    csrf = view.csrfToken;
    account = view.account;
    totpEnabled = view.totp;
  },
  clear() {
    sessionStorage.removeItem(KEY);
    csrf = null;
    account = null;
    totpEnabled = false;
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let onUnauthorized = () => {};
/** Called when the server refuses the token or the session (401): the app signs out. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** One request. `token`: a bearer token to use (default: the session's; none = the cookie). `quiet`: a 401 does not sign out. */
async function request(method, path, body, { token = session.token, quiet = false } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (csrf && !SAFE.has(method)) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json && json.error;
    const err = new ApiError(res.status, e ? e.code : `HTTP_${res.status}`, e ? e.message : res.statusText, e ? e.details : undefined);
    if (res.status === 401 && !quiet) onUnauthorized(err);
    throw err;
  }
  return json;
}

export function api(method, path, body, token = session.token) {
  return request(method, path, body, { token });
}

/** POST /v1/session: signs in with name and password (and code); the cookie is set by the server. */
export async function signInWithPassword(name, password, totp) {
  const view = await request('POST', '/v1/session', { name, password, ...(totp ? { totp } : {}) }, { token: null, quiet: true });
  session.setCookieSession(view);
  return view;
}

/** GET /v1/session: the cookie session this browser still has (after a reload), or null. */
export async function restoreCookieSession() {
  try {
    const view = await request('GET', '/v1/session', undefined, { token: null, quiet: true });
    session.setCookieSession(view);
    return view;
  } catch {
    return null;
  }
}

/** DELETE /v1/session, or POST /v1/session/revoke-all with `everywhere`; the local state is cleared either way. */
export async function signOutSession(everywhere = false) {
  try {
    if (csrf) await request(everywhere ? 'POST' : 'DELETE', everywhere ? '/v1/session/revoke-all' : '/v1/session', undefined, { token: null, quiet: true });
  } finally {
    session.clear();
  }
}

/** A refusal as one line for people: the catalogue message and, for limits, when to try again. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return `Request failed: ${err && err.message ? err.message : err}`;
  const retry = err.details && err.details.retryAfterSec ? ` Try again in ${err.details.retryAfterSec} s.` : '';
  return `${err.message} (${err.code})${retry}`;
}
