import { createHash } from 'node:crypto';

/** How long a key's first answer is kept and replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a request may hold its key before the claim counts as abandoned (the process that ran it died before
 * storing the answer): a retry after that runs the request again. Well above any request's run time here, and well
 * within the typed client's write-retry budget (75 s), so a retry after a killed process ends in an answer.
 */
export const IDEMPOTENCY_LOCK_MS = 20 * 1000;
/** The header a client sends, and the one a replayed answer carries. */
export { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from '../../shared/api/idempotency.js';

/** 1–255 printable ASCII characters, no spaces (a UUID, a ULID, the client's own request id). */
export function isValidIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && /^[\x21-\x7e]{1,255}$/.test(key);
}

/** JSON with object keys sorted at every level: the same body sent by another client library hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What identifies "the same request": method, path (with its query) and body. */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${canonicalJson(body ?? null)}`).digest('hex');
}

/** A key's stored row, as far as the decision needs it. */
export interface StoredKey {
  fingerprint: string;
  state: 'in_flight' | 'done';
  status: number | null;
  locked_until: number;
  expires_at: number;
}

export type KeyVerdict =
  /** The key is free (never used, or expired): claim it and run the request. */
  | { kind: 'run' }
  /** The request with this key ended: send its answer again. */
  | { kind: 'replay' }
  /** The key was used for another request. */
  | { kind: 'reused' }
  /** The first request still runs. */
  | { kind: 'in_flight' }
  /** The first request's process died before answering: take the claim over and run it. */
  | { kind: 'take_over' };

/** What to do with a request whose key is already stored (pure: the shell loads the row and acts on this). */
export function judgeKey(stored: StoredKey | undefined, fingerprint: string, now: number): KeyVerdict {
  if (!stored || stored.expires_at <= now) return { kind: 'run' };
  if (stored.fingerprint !== fingerprint) return { kind: 'reused' };
  if (stored.state === 'done') return { kind: 'replay' };
  return stored.locked_until <= now ? { kind: 'take_over' } : { kind: 'in_flight' };
}

/**
 * Whether an answer is kept for replay. Answers that say "nothing was done, try again" are not: rate limits (429)
 * and server-side failures (5xx: storage full or unavailable, internal errors) release the key, so a retry runs.
 */
export function isStoredAnswer(status: number): boolean {
  return status < 500 && status !== 429;
}
