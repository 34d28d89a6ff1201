// The API with the operator's bearer token, kept in sessionStorage (this tab only).

const KEY = 'lockstep.token';

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  clear() {
    sessionStorage.removeItem(KEY);
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
/** Called when the server refuses the token (401): the app signs out. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body, token = session.token) {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
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
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  return json;
}

/** A refusal as one line for people: the catalogue message and, for limits, when to try again. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return `Request failed: ${err && err.message ? err.message : err}`;
  const retry = err.details && err.details.retryAfterSec ? ` Try again in ${err.details.retryAfterSec} s.` : '';
  return `${err.message} (${err.code})${retry}`;
}
