import { createHmac, timingSafeEqual } from 'node:crypto';
/** Header names every delivery carries. */
export const SIGNATURE_HEADER = 'Lockstep-Signature';
export const EVENT_ID_HEADER = 'Lockstep-Event-Id';
export const EVENT_TYPE_HEADER = 'Lockstep-Event-Type';
/** Hex HMAC-SHA256 of `"<t>.<body>"` under the endpoint's secret (its UTF-8 bytes, prefix included). */
function signatureOf(secret, t, body) {
    return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}
/** The `Lockstep-Signature` value: `t=<unix seconds>,v1=<hex HMAC>`. */
export function signatureHeader(secret, t, body) {
    return `t=${t},v1=${signatureOf(secret, t, body)}`;
}
/**
 * What a receiver does, for reference and tests: parse the header, recompute the HMAC over the raw body in
 * constant time (any of several `v1=` values may match, for secret rotation), and refuse a timestamp further
 * than `toleranceSec` from its own time (replays).
 */
export function verifySignature(secret, header, body, nowSec, toleranceSec = 300) {
    let t;
    const candidates = [];
    for (const part of header.split(',')) {
        const eq = part.indexOf('=');
        const key = part.slice(0, eq).trim();
        const value = part.slice(eq + 1).trim();
        if (key === 't' && /^\d{1,12}$/.test(value))
            t = Number(value);
        else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value))
            candidates.push(value);
    }
    if (t === undefined || candidates.length === 0)
        return { ok: false, reason: 'MALFORMED' };
    const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
    if (!candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected)))
        return { ok: false, reason: 'MISMATCH' };
    if (Math.abs(nowSec - t) > toleranceSec)
        return { ok: false, reason: 'STALE' };
    return { ok: true, t };
}
//# sourceMappingURL=signing.js.map