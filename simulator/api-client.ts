/** A small client of the Lockstep HTTP API, as a carrier's or operator's system would use it. */
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

export interface ApiClientOptions {
  readRetry?: Partial<ReadRetryPolicy>;
  /** Told of every read retried (the simulator's metrics count them). */
  onReadRetry?: (path: string, reason: string) => void;
}

/** Statuses a proxy or a restarting server answers before the request reached the application. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Talks to one server or several (the processes of one deployment): requests go to them in turn, and a request
 * that cannot reach its server (refused, reset, timed out) goes to the next one, so a run survives a server
 * process being killed. A POST cut off mid-flight may have been applied by the dead server; the simulator accepts
 * that (the server has no idempotency key yet), and never sends a POST again on its own. A GET changes nothing, so
 * when no server answered it, or one answered 502/503/504, it is tried again after a short, growing wait, a bounded
 * number of times: a recipient waiting for a code outlives a server restart.
 */
export class ApiClient {
  readonly baseUrls: readonly string[];
  #next = 0;
  readonly #retry: ReadRetryPolicy;
  readonly #onReadRetry: ((path: string, reason: string) => void) | undefined;
  /** Requests that went to another server after a connection error. */
  failovers = 0;
  /** GETs sent again after no server answered or one answered 502/503/504. */
  readRetries = 0;

  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string,
    options: ApiClientOptions = {},
  ) {
    const urls = (typeof baseUrl === 'string' ? baseUrl.split(',') : baseUrl).map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
    if (urls.length === 0) throw new Error('no server URL');
    this.baseUrls = urls;
    this.#retry = { ...DEFAULT_READ_RETRY, ...options.readRetry };
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

  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const once = () => this.#send<T>(method, path, body);
    return method === 'GET' ? this.#retryRead(path, once) : once();
  }

  async #retryRead<T>(path: string, read: () => Promise<T>): Promise<T> {
    const { attempts, firstDelayMs, maxDelayMs, budgetMs } = this.#retry;
    const until = Date.now() + budgetMs;
    for (let attempt = 1, delay = firstDelayMs; ; attempt++, delay = Math.min(maxDelayMs, delay * 2)) {
      try {
        return await read();
      } catch (err) {
        const reason = retryReason(err);
        // Half to all of the delay: readers cut off together by a restart do not all come back at the same instant.
        const wait = Math.round(delay * (0.5 + Math.random() / 2));
        if (reason === null || attempt >= attempts || Date.now() + wait > until) throw err;
        this.readRetries++;
        this.#onReadRetry?.(path, reason);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  #send<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return this.withServer(async (baseUrl) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
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

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
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

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
