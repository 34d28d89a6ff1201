import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { afterFailure, retryDelayMs, type RetryPolicy } from '../../server/webhooks/retry-policy.js';
import { signatureHeader, verifySignature } from '../../server/webhooks/signing.js';
import { checkWebhookUrl, newWebhookSecret } from '../../server/webhooks/webhook-endpoints.js';

const policy: RetryPolicy = { maxAttempts: 8, baseMs: 10_000, maxMs: 3_600_000 };

describe('webhook signatures', () => {
  const secret = 'whsec_test-secret';
  const body = '{"id":"evt_1","type":"parcel.booked"}';

  it('are an HMAC-SHA256 of "<t>.<body>" in hex, as the README recipe computes it', () => {
    const expected = createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex');
    expect(signatureHeader(secret, 1767225600, body)).toBe(`t=1767225600,v1=${expected}`);
  });

  it('verify with the right secret and body, and refuse another secret, a changed body, a stale time or a malformed header', () => {
    const header = signatureHeader(secret, 1000, body);
    expect(verifySignature(secret, header, body, 1000)).toEqual({ ok: true, t: 1000 });
    expect(verifySignature('whsec_other', header, body, 1000)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifySignature(secret, header, `${body} `, 1000)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifySignature(secret, header, body, 1000 + 301)).toEqual({ ok: false, reason: 'STALE' });
    expect(verifySignature(secret, 'v1=abc', body, 1000)).toEqual({ ok: false, reason: 'MALFORMED' });
    // Another signature next to the right one (secret rotation on the receiver's side) still verifies.
    expect(verifySignature(secret, `${header},v1=${'0'.repeat(64)}`, body, 1000).ok).toBe(true);
  });
});

describe('webhook retries', () => {
  it('double from 10 s with jitter in the upper half, capped', () => {
    expect(retryDelayMs(policy, 1, () => 0)).toBe(5_000);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(10_000);
    expect(retryDelayMs(policy, 2, () => 1)).toBe(20_000);
    expect(retryDelayMs(policy, 4, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(policy, 20, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(policy, 200, () => 0)).toBe(1_800_000);
  });

  it('stop after the last attempt: the delivery is dead', () => {
    expect(afterFailure(policy, 7, 1000, () => 1)).toEqual({ state: 'pending', nextAttemptAt: 1000 + 640_000 });
    expect(afterFailure(policy, 8, 1000, () => 1)).toEqual({ state: 'dead' });
    expect(afterFailure({ ...policy, maxAttempts: 1 }, 1, 0, () => 0)).toEqual({ state: 'dead' });
  });
});

describe('webhook URLs and secrets', () => {
  it('accept http and https only, without credentials or fragment', () => {
    expect(checkWebhookUrl('https://hooks.example.com/lockstep?x=1')).toBe('https://hooks.example.com/lockstep?x=1');
    expect(checkWebhookUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/');
    for (const bad of ['ftp://a/b', 'file:///etc/passwd', 'data:text/plain,hi', 'ws://a/', 'https://u:p@a/', 'https://a/#x', 'not a url']) {
      expect(() => checkWebhookUrl(bad), bad).toThrow(expect.objectContaining({ code: 'WEBHOOK_URL_INVALID' }));
    }
  });

  it('are generated with 256 bits of randomness', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
