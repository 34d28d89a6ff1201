import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived links a locker uses over HTTP for one command (download its update, report on it, answer a
 * diagnostics request): the command travels on the locker's own MQTT topic, which only that locker may read, and
 * carries paths whose query holds the locker id, an expiry and an HMAC-SHA256 over `{kind}:{lockerId}:{commandId}:{exp}`.
 * Lockers need no bearer token; a link copied from a command works for that command, that locker and until `exp`
 * only. The key is derived from the server's PIN secret with its own label (never the PIN key itself).
 */
export type LinkKind = 'artefact' | 'update-report' | 'diagnostics';

export class DeviceLinks {
  readonly #key: Buffer;

  constructor(secret: Buffer) {
    this.#key = createHmac('sha256', secret).update('lockstep/device-links/v1').digest();
  }

  #mac(kind: LinkKind, lockerId: string, commandId: string, exp: number): string {
    return createHmac('sha256', this.#key).update(`${kind}:${lockerId}:${commandId}:${exp}`).digest('base64url');
  }

  /** The query string (without `?`) of a link for `kind`. */
  query(kind: LinkKind, lockerId: string, commandId: string, exp: number): string {
    return new URLSearchParams({ locker: lockerId, exp: String(exp), sig: this.#mac(kind, lockerId, commandId, exp) }).toString();
  }

  /** True when the link's signature is right and it has not expired at `now`. */
  check(kind: LinkKind, commandId: string, q: { locker: string; exp: number; sig: string }, now: number): boolean {
    if (now > q.exp) return false;
    const want = Buffer.from(this.#mac(kind, q.locker, commandId, q.exp));
    const got = Buffer.from(q.sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
