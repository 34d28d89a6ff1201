import { verifyBrokerToken, type DevicePublicKey } from '../../shared/broker-credentials.js';

/**
 * The public keys this process last read for lockers that signed in here, to sort sign-ins before the line of
 * sign-in-gate.ts: a token that does not verify against the key read last (forged, from someone who knows a locker
 * id), the token the locker last signed in with (replayed), or one for an id that had no key when last read (not
 * enrolled, retired, no such locker) is *doubtful*. Doubtful sign-ins go to a narrow line of their own, so clients
 * with made-up tokens for known locker ids cannot fill the line real lockers wait in (docs/protocol.md, Transport).
 *
 * A key read earlier may be out of date (the locker was re-enrolled or retired since, maybe through another
 * process): that is why a doubtful sign-in is still checked against the database in its own line, never refused
 * on this memory alone, why a check refreshes what is remembered, and why revoking a locker forgets it here.
 *
 * Limits, by design: a process remembers only lockers it has checked since it started (an id it has not seen goes
 * to the main line, as every sign-in did before); ids without a key are kept apart, in a smaller memory, so made-up
 * ids cannot push real lockers' keys out.
 */
export type Precheck = 'unknown' | 'verified' | 'doubtful';

/** Bytes of memory are about 300 per entry: 50,000 lockers per process (a fleet's share) is about 15 MB. */
const DEFAULT_MAX_KEYS = 50_000;
/** Ids read without a key (not enrolled, retired, no such locker): fewer, and apart from the keys. */
const DEFAULT_MAX_KEYLESS = 10_000;

/** How far a locker's clock may be off (the same tolerance as the check itself, device-auth.ts). */
export const BROKER_TOKEN_SKEW_SEC = 24 * 3600;

interface Known {
  /** The public key as stored (JSON). */
  key: string;
  /** The id (jti) of the last token accepted for the locker: the same token again is a replay. */
  lastJti?: string;
}

/** A bounded map that lets go of the entries set longest ago. */
class Bounded<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get size(): number {
    return this.#map.size;
  }
  get(k: string): V | undefined {
    return this.#map.get(k);
  }
  has(k: string): boolean {
    return this.#map.has(k);
  }
  set(k: string, v: V): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as string);
  }
  delete(k: string): void {
    this.#map.delete(k);
  }
}

export class KnownKeys {
  readonly #keys: Bounded<Known>;
  readonly #keyless: Bounded<true>;

  constructor(maxKeys = DEFAULT_MAX_KEYS, maxKeyless = DEFAULT_MAX_KEYLESS) {
    this.#keys = new Bounded(maxKeys);
    this.#keyless = new Bounded(maxKeyless);
  }

  get size(): number {
    return this.#keys.size + this.#keyless.size;
  }

  /** What a check read from the database for the locker (its key, or null). */
  remember(lockerId: string, publicKey: string | null): void {
    if (publicKey === null) {
      this.#keys.delete(lockerId);
      this.#keyless.set(lockerId, true);
      return;
    }
    this.#keyless.delete(lockerId);
    const was = this.#keys.get(lockerId);
    this.#keys.set(lockerId, was?.key === publicKey ? was : { key: publicKey });
  }

  /** A token of the locker was accepted (single use): the same token again is doubtful. */
  accepted(lockerId: string, jti: string): void {
    const known = this.#keys.get(lockerId);
    if (known) known.lastJti = jti;
  }

  /** The locker was revoked, re-enrolled or retired: nothing is assumed about it until the next check. */
  forget(lockerId: string): void {
    this.#keys.delete(lockerId);
    this.#keyless.delete(lockerId);
  }

  /**
   * Sorts a sign-in: 'verified' (the token verifies against the key read last; `key` says which, so the check need
   * not verify it again when the database still holds it), 'doubtful', or 'unknown' (nothing read yet: this process
   * has not seen the locker since it started, or let go of it).
   */
  async precheck(lockerId: string, token: string, nowMs: number): Promise<{ verdict: Precheck; key?: string }> {
    if (this.#keyless.has(lockerId)) return { verdict: 'doubtful' };
    const known = this.#keys.get(lockerId);
    if (known === undefined) return { verdict: 'unknown' };
    if (known.lastJti !== undefined && jtiOf(token) === known.lastJti) return { verdict: 'doubtful' };
    const verdict = await verifyBrokerToken(token, JSON.parse(known.key) as DevicePublicKey, lockerId, nowMs, BROKER_TOKEN_SKEW_SEC);
    return verdict === 'OK' ? { verdict: 'verified', key: known.key } : { verdict: 'doubtful' };
  }
}

/** The `jti` claim of a compact token, unverified (undefined when it has none). */
export function jtiOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof claims.jti === 'string' ? claims.jti : undefined;
  } catch {
    return undefined;
  }
}
