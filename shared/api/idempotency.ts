/**
 * Idempotency keys (issue 16): a POST sent with `Idempotency-Key` is safe to retry. The same key and body within
 * 24 h return the first answer, marked `Idempotent-Replayed: true`. See docs/http-api.md.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * POST routes that refuse a key (IDEMPOTENCY_NOT_SUPPORTED) because their answer holds a credential the server
 * does not store, and the public ones (no account to keep keys for). The server marks these routes with
 * `config.idempotency: false`; test/client checks both agree with the API document.
 */
const NO_KEY_POSTS: readonly RegExp[] = [
  /^\/v1\/accounts$/,
  /^\/v1\/accounts\/[^/]+\/tokens$/,
  /^\/v1\/admin\/rotate-token$/,
  /^\/v1\/lockers$/,
  /^\/v1\/lockers\/[^/]+\/re-enrol$/,
  /^\/v1\/enrol$/,
  /^\/v1\/broker\//,
  // Operator sign-in (issue 19): the session cookie and a second factor's secret.
  /^\/v1\/session$/,
  /^\/v1\/me\/totp$/,
  // Firmware and diagnostics (issue 19): the device links are public (signed links, no account to keep keys for).
  /^\/v1\/device\//,
];

/** Whether a POST to `path` (query aside) takes an Idempotency-Key. */
export function postTakesIdempotencyKey(path: string): boolean {
  const bare = path.split('?')[0] ?? path;
  return !NO_KEY_POSTS.some((re) => re.test(bare));
}
