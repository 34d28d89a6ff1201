/** A small client of the Lockstep HTTP API, as a carrier's or operator's system would use it. */
export class ApiError extends Error {
    status;
    code;
    constructor(status, code, message) {
        super(`${status} ${code}: ${message}`);
        this.status = status;
        this.code = code;
    }
}
/** No server of the list could be reached. */
export class ApiUnreachableError extends Error {
    code = 'SIM_SERVER_UNREACHABLE';
}
/** Enough to ride out a server process restarting (a few seconds), short enough that a dead deployment fails soon. */
export const DEFAULT_READ_RETRY = { attempts: 6, firstDelayMs: 100, maxDelayMs: 1000, budgetMs: 5000 };
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
    token;
    baseUrls;
    #next = 0;
    #retry;
    #onReadRetry;
    /** Requests that went to another server after a connection error. */
    failovers = 0;
    /** GETs sent again after no server answered or one answered 502/503/504. */
    readRetries = 0;
    constructor(baseUrl, token, options = {}) {
        this.token = token;
        const urls = (typeof baseUrl === 'string' ? baseUrl.split(',') : baseUrl).map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
        if (urls.length === 0)
            throw new Error('no server URL');
        this.baseUrls = urls;
        this.#retry = { ...DEFAULT_READ_RETRY, ...options.readRetry };
        this.#onReadRetry = options.onReadRetry;
    }
    /** The server the next request goes to. */
    get baseUrl() {
        return this.baseUrls[this.#next % this.baseUrls.length];
    }
    /** Runs `call` against the servers in turn, from the next one, moving on only when one cannot be reached. */
    async withServer(call) {
        const start = this.#next++;
        let last;
        for (let i = 0; i < this.baseUrls.length; i++) {
            const url = this.baseUrls[(start + i) % this.baseUrls.length];
            try {
                return await call(url);
            }
            catch (err) {
                if (!isConnectionError(err))
                    throw err;
                last = err;
                if (i + 1 < this.baseUrls.length)
                    this.failovers++;
            }
        }
        throw new ApiUnreachableError(`no server answered (${this.baseUrls.join(', ')}): ${describe(last)}`);
    }
    request(method, path, body) {
        const once = () => this.#send(method, path, body);
        return method === 'GET' ? this.#retryRead(path, once) : once();
    }
    async #retryRead(path, read) {
        const { attempts, firstDelayMs, maxDelayMs, budgetMs } = this.#retry;
        const until = Date.now() + budgetMs;
        for (let attempt = 1, delay = firstDelayMs;; attempt++, delay = Math.min(maxDelayMs, delay * 2)) {
            try {
                return await read();
            }
            catch (err) {
                const reason = retryReason(err);
                // Half to all of the delay: readers cut off together by a restart do not all come back at the same instant.
                const wait = Math.round(delay * (0.5 + Math.random() / 2));
                if (reason === null || attempt >= attempts || Date.now() + wait > until)
                    throw err;
                this.readRetries++;
                this.#onReadRetry?.(path, reason);
                await new Promise((r) => setTimeout(r, wait));
            }
        }
    }
    #send(method, path, body) {
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
                const err = parseJson(text)?.error;
                throw new ApiError(res.status, err?.code ?? 'UNKNOWN', err?.message ?? text);
            }
            return (text ? JSON.parse(text) : undefined);
        });
    }
    get(path) {
        return this.request('GET', path);
    }
    post(path, body) {
        return this.request('POST', path, body);
    }
}
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);
/** fetch() reports a network failure as a TypeError whose cause carries the system error code. */
function isConnectionError(err) {
    if (err instanceof ApiError)
        return false;
    let e = err;
    for (let depth = 0; e && depth < 4; depth++) {
        const code = e.code;
        if (typeof code === 'string' && CONNECTION_CODES.has(code))
            return true;
        e = e.cause;
    }
    return err instanceof TypeError && /fetch failed|other side closed/i.test(err.message);
}
function parseJson(text) {
    try {
        return text ? JSON.parse(text) : undefined;
    }
    catch {
        return undefined;
    }
}
/** Whether a failed GET may simply be asked again later: no server reached, or a gateway status (502/503/504). */
export function isRetryableRead(err) {
    return retryReason(err) !== null;
}
/** Why a failed read may be tried again (no server reached, or a gateway status), or null when it may not. */
function retryReason(err) {
    if (err instanceof ApiUnreachableError)
        return 'unreachable';
    if (err instanceof ApiError && RETRYABLE_STATUS.has(err.status))
        return String(err.status);
    return null;
}
function describe(err) {
    const cause = err?.cause;
    return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
//# sourceMappingURL=api-client.js.map