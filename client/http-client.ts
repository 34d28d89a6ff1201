import { randomUUID } from 'node:crypto';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER, postTakesIdempotencyKey } from '../shared/api/idempotency.js';

/**
 * The transport of the Lockstep client (client/lockstep-client.ts has the typed calls): one server or several,
 * failover, bounded retries, and an Idempotency-Key on every POST that takes one, so a POST is retried safely.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** No server of the list could be reached. */
export class ApiUnreachableError extends Error {
  readonly code = 'SIM_SERVER_UNREACHABLE';
}

/** How a read that found no server (or a gateway answering 502/503/504) is tried again. */
export interface ReadRetryPolicy {
  /** Tries in all, the first included (1: no retry). */
  attempts: number;
  /** Wait before the first retry; it doubles on each retry, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** No retry starts later than this after the first try. */
  budgetMs: number;
}

/** Enough to ride out a server process restarting (a few seconds), short enough that a dead deployment fails soon. */
export const DEFAULT_READ_RETRY: ReadRetryPolicy = { attempts: 6, firstDelayMs: 100, maxDelayMs: 1000, budgetMs: 5000 };

/**
 * How a POST with an Idempotency-Key is tried again (the same key each time): as a read, and also while the
 * server says the key is still in flight (409 IDEMPOTENCY_KEY_IN_FLIGHT: the first try still runs, or ran on a
 * process that died; its claim lapses after 60 s, server/http/idempotency-rules.ts).
 */
export const DEFAULT_WRITE_RETRY: ReadRetryPolicy = { attempts: 12, firstDelayMs: 100, maxDelayMs: 8000, budgetMs: 75_000 };

export interface PostOptions {
  /** The key to send (a retry by the caller reuses it); default: a new random one per call. `false`: none. */
  idempotencyKey?: string | false;
}

export interface ApiClientOptions {
  readRetry?: Partial<ReadRetryPolicy>;
  writeRetry?: Partial<ReadRetryPolicy>;
  /** Told of every read retried (the simulator's metrics count them). */
  onReadRetry?: (path: string, reason: string) => void;
}

/** Statuses a proxy or a restarting server answers before the request reached the application. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Talks to one server or several (the processes of one deployment): requests go to them in turn, and a request
 * that cannot reach its server (refused, reset, timed out) goes to the next one, so a run survives a server
 * process being killed. Every POST that takes one carries an Idempotency-Key (shared/api/idempotency.ts), the
 * same on every try: a POST cut off mid-flight and sent again (to the next server, or after 502/503/504, or while
 * the key is in flight) gets the first answer, never a second booking. A GET changes nothing, so when no server
 * answered it, or one answered 502/503/504, it is tried again after a short, growing wait, a bounded number of
 * times: a recipient waiting for a code outlives a server restart. A POST without a key (its route takes none) is
 * never sent again once it may have reached a server.
 */
export class ApiClient {
  readonly baseUrls: readonly string[];
  #next = 0;
  readonly #retry: ReadRetryPolicy;
  readonly #writeRetry: ReadRetryPolicy;
  readonly #onReadRetry: ((path: string, reason: string) => void) | undefined;
  /** Requests that went to another server after a connection error. */
  failovers = 0;
  /** GETs sent again after no server answered or one answered 502/503/504. */
  readRetries = 0;
  /** POSTs sent again with their key (no server answered, 502/503/504, or the key was in flight). */
  writeRetries = 0;
  /** Answers the server replayed for a repeated key (`Idempotent-Replayed: true`). */
  replays = 0;

  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string,
    options: ApiClientOptions = {},
  ) {
    const urls = (typeof baseUrl === 'string' ? baseUrl.split(',') : baseUrl).map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
    if (urls.length === 0) throw new Error('no server URL');
    this.baseUrls = urls;
    this.#retry = { ...DEFAULT_READ_RETRY, ...options.readRetry };
    this.#writeRetry = { ...DEFAULT_WRITE_RETRY, ...options.writeRetry };
    this.#onReadRetry = options.onReadRetry;
  }

  /** The server the next request goes to. */
  get baseUrl(): string {
    return this.baseUrls[this.#next % this.baseUrls.length] as string;
  }

  /** Runs `call` against the servers in turn, from the next one, moving on only when one cannot be reached. */
  async withServer<T>(call: (baseUrl: string) => Promise<T>): Promise<T> {
    const start = this.#next++;
    let last: unknown;
    for (let i = 0; i < this.baseUrls.length; i++) {
      const url = this.baseUrls[(start + i) % this.baseUrls.length] as string;
      try {
        return await call(url);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        last = err;
        if (i + 1 < this.baseUrls.length) this.failovers++;
      }
    }
    throw new ApiUnreachableError(`no server answered (${this.baseUrls.join(', ')}): ${describe(last)}`);
  }

  /** GET, PUT and DELETE are idempotent by nature: they are retried as reads. */
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options: PostOptions = {}): Promise<T> {
    if (method !== 'POST') {
      return this.#retry_(this.#retry, () => this.#send<T>(method, path, body), retryReason, (reason) => {
        this.readRetries++;
        this.#onReadRetry?.(path, reason);
      });
    }
    const key = options.idempotencyKey ?? (postTakesIdempotencyKey(path) ? randomUUID() : false);
    const once = () => this.#send<T>(method, path, body, key === false ? undefined : key);
    if (key === false) return once();
    return this.#retry_(this.#writeRetry, once, writeRetryReason, () => this.writeRetries++);
  }

  /** Runs `call` until it succeeds or fails for a reason `why` does not name, within the policy's tries and budget. */
  async #retry_<T>(policy: ReadRetryPolicy, call: () => Promise<T>, why: (err: unknown) => string | null, onRetry: (reason: string) => void): Promise<T> {
    const { attempts, firstDelayMs, maxDelayMs, budgetMs } = policy;
    const until = Date.now() + budgetMs;
    for (let attempt = 1, delay = firstDelayMs; ; attempt++, delay = Math.min(maxDelayMs, delay * 2)) {
      try {
        return await call();
      } catch (err) {
        const reason = why(err);
        // Half to all of the delay: clients cut off together by a restart do not all come back at the same instant.
        const wait = Math.round(delay * (0.5 + Math.random() / 2));
        if (reason === null || attempt >= attempts || Date.now() + wait > until) throw err;
        onRetry(reason);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  #send<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    return this.withServer(async (baseUrl) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey === undefined ? {} : { [IDEMPOTENCY_HEADER]: idempotencyKey }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.headers.get(REPLAYED_HEADER) === 'true') this.replays++;
      const text = await res.text();
      if (!res.ok) {
        // A proxy in front of a restarting server answers in HTML: the status is what counts then.
        const err = (parseJson(text) as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new ApiError(res.status, err?.code ?? 'UNKNOWN', err?.message ?? text);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** A POST; it carries an Idempotency-Key unless its route takes none (or `idempotencyKey: false`). */
  post<T>(path: string, body: unknown, options: PostOptions = {}): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

/** fetch() reports a network failure as a TypeError whose cause carries the system error code. */
function isConnectionError(err: unknown): boolean {
  if (err instanceof ApiError) return false;
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof TypeError && /fetch failed|other side closed/i.test(err.message);
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a failed GET may simply be asked again later: no server reached, or a gateway status (502/503/504). */
export function isRetryableRead(err: unknown): boolean {
  return retryReason(err) !== null;
}

/** Why a failed read may be tried again (no server reached, or a gateway status), or null when it may not. */
function retryReason(err: unknown): string | null {
  if (err instanceof ApiUnreachableError) return 'unreachable';
  if (err instanceof ApiError && RETRYABLE_STATUS.has(err.status)) return String(err.status);
  return null;
}

/** Why a failed POST with a key may be sent again with it (as a read, or its key still in flight), or null. */
function writeRetryReason(err: unknown): string | null {
  if (err instanceof ApiError && err.code === 'IDEMPOTENCY_KEY_IN_FLIGHT') return 'in flight';
  return retryReason(err);
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
