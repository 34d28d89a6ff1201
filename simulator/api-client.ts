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

/**
 * Talks to one server or several (the processes of one deployment): requests go to them in turn, and a request
 * that cannot reach its server (refused, reset, timed out) goes to the next one, so a run survives a server
 * process being killed. A POST cut off mid-flight may have been applied by the dead server; the simulator accepts
 * that (the server has no idempotency key yet).
 */
export class ApiClient {
  readonly baseUrls: readonly string[];
  #next = 0;
  /** Requests that went to another server after a connection error. */
  failovers = 0;

  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string,
  ) {
    const urls = (typeof baseUrl === 'string' ? baseUrl.split(',') : baseUrl).map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
    if (urls.length === 0) throw new Error('no server URL');
    this.baseUrls = urls;
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
      const json = text ? (JSON.parse(text) as unknown) : undefined;
      if (!res.ok) {
        const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new ApiError(res.status, err?.code ?? 'UNKNOWN', err?.message ?? text);
      }
      return json as T;
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

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
