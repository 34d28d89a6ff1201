import { verifyBrokerToken, type DevicePublicKey } from '../../shared/broker-credentials.js';

/**
 * The public keys this process last read for lockers that signed in here, to sort sign-ins before the line of
 * sign-in-gate.ts: a token that does not verify against the key read last (forged, from someone who knows a locker
 * id) or from a locker that was not enrolled then is *doubtful*. Doubtful sign-ins go to a narrow line of their own,
 * so clients with made-up tokens cannot fill the line real lockers wait in (docs/protocol.md, Transport).
 *
 * A key read earlier may be out of date (the locker was re-enrolled or retired since, maybe through another
 * process): that is why a doubtful sign-in is still checked against the database in its own line, never refused
 * on this memory alone, and why a check refreshes what is remembered.
 */
export type Precheck = 'unknown' | 'verified' | 'doubtful';

/** Bytes of memory are about 300 per entry: 50,000 lockers per process (a fleet's share) is about 15 MB. */
const DEFAULT_MAX_ENTRIES = 50_000;

/** How far a locker's clock may be off (the same tolerance as the check itself, device-auth.ts). */
export const BROKER_TOKEN_SKEW_SEC = 24 * 3600;

export class KnownKeys {
  /** Locker id → its public key as stored (JSON), or null when it had none (not enrolled, or retired). */
  readonly #keys = new Map<string, string | null>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  get size(): number {
    return this.#keys.size;
  }

  /** What a check read from the database for the locker (its key, or null). */
  remember(lockerId: string, publicKey: string | null): void {
    // Re-inserted at the end: the oldest entries are the ones let go past the bound.
    this.#keys.delete(lockerId);
    this.#keys.set(lockerId, publicKey);
    if (this.#keys.size > this.maxEntries) this.#keys.delete(this.#keys.keys().next().value as string);
  }

  /**
   * Sorts a sign-in: 'verified' (the token verifies against the key read last; `key` says which, so the check need
   * not verify it again when the database still holds it), 'doubtful', or 'unknown' (nothing read yet: this process
   * has not seen the locker since it started).
   */
  async precheck(lockerId: string, token: string, nowMs: number): Promise<{ verdict: Precheck; key?: string }> {
    const key = this.#keys.get(lockerId);
    if (key === undefined) return { verdict: 'unknown' };
    if (key === null) return { verdict: 'doubtful' };
    const verdict = await verifyBrokerToken(token, JSON.parse(key) as DevicePublicKey, lockerId, nowMs, BROKER_TOKEN_SKEW_SEC);
    return verdict === 'OK' ? { verdict: 'verified', key } : { verdict: 'doubtful' };
  }
}
