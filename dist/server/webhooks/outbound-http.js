import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseIp } from './address-policy.js';
const systemResolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });
/** The address a webhook was about to connect to is refused by the address policy. */
export class AddressRefusedError extends Error {
    kind;
    address;
    code = 'ADDRESS_REFUSED';
    constructor(kind, address) {
        super(`address refused (${kind})`);
        this.kind = kind;
        this.address = address;
        this.name = 'AddressRefusedError';
    }
}
/**
 * A `lookup` for net/tls connections that resolves the name and hands the socket only the addresses the policy
 * allows, so the check holds for the address actually connected to: a name that resolved to a public address
 * when the endpoint was set and to 127.0.0.1 now (DNS rebinding) connects nowhere. None allowed: ADDRESS_REFUSED.
 */
export function guardedLookup(policy, resolve = systemResolve) {
    return (hostname, options, callback) => {
        resolve(hostname).then((all) => {
            const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
            const allowed = wanted.filter((a) => policy.check(a.address).ok);
            if (allowed.length === 0) {
                const first = wanted[0];
                const verdict = first ? policy.check(first.address) : undefined;
                const kind = verdict && !verdict.ok ? verdict.kind : 'invalid';
                callback(new AddressRefusedError(kind, first?.address ?? hostname), '', 0);
                return;
            }
            if (options.all)
                callback(null, allowed);
            else
                callback(null, allowed[0].address, allowed[0].family);
        }, (err) => callback(err, '', 0));
    };
}
/** The literal address of a URL's host (`[::1]` unbracketed), or undefined for a name. */
function literalHost(url) {
    return parseIp(url.hostname) ? url.hostname.replace(/^\[|\]$/g, '') : undefined;
}
/**
 * Whether a webhook URL may be set: a literal address must be allowed; a name must resolve to at least one
 * allowed address. A name that does not resolve (yet), or not within `timeoutMs`, is accepted: the check at
 * connect time is the one that holds, since what a name resolves to may change at any time.
 */
export async function destinationVerdict(raw, policy, resolve = systemResolve, timeoutMs = 2000) {
    const url = new URL(raw);
    const literal = literalHost(url);
    if (literal !== undefined)
        return policy.check(literal);
    let timer;
    const timeout = new Promise((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout(undefined), timeoutMs);
    });
    try {
        const all = await Promise.race([resolve(url.hostname).catch(() => undefined), timeout]);
        if (!all || all.length === 0)
            return { ok: true };
        const verdicts = all.map((a) => policy.check(a.address));
        return verdicts.find((v) => v.ok) ?? verdicts[0];
    }
    finally {
        clearTimeout(timer);
    }
}
/**
 * One POST to a webhook URL, answered with the status (the body is not read; redirects are never followed). The
 * address is checked before connecting: a literal one here, a name's in the connection's lookup. Rejects with
 * AddressRefusedError when refused, else with the network error (an abort rejects with the signal's error).
 */
export function postOnce(raw, options) {
    const url = new URL(raw);
    const literal = literalHost(url);
    if (literal !== undefined) {
        const verdict = options.policy.check(literal);
        if (!verdict.ok)
            return Promise.reject(new AddressRefusedError(verdict.kind, literal));
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
        const req = request(url, {
            method: 'POST',
            // A fresh connection each time: a pooled socket could have been opened without this lookup.
            agent: false,
            lookup: guardedLookup(options.policy, options.resolve),
            signal: options.signal,
            headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        }, (res) => {
            resolve(res.statusCode ?? 0);
            res.destroy();
        });
        req.on('error', reject);
        req.end(options.body);
    });
}
//# sourceMappingURL=outbound-http.js.map