import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Role } from '../../shared/api/accounts.js';
import type { Db } from '../store/database.js';
import type { Principal } from './principal.js';

/** Roles that sign in with a password and hold sessions (carriers are machines: bearer tokens only). */
export const SIGN_IN_ROLES: readonly Role[] = ['admin', 'operator'];

/** A session's last_seen_at is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 15_000;

export interface SessionSettings {
  idleMs: number;
  maxMs: number;
}

/** A valid session, as the auth hook sees it. */
export interface ResolvedSession {
  idHash: string;
  principal: Principal;
  name: string;
  /** The CSRF token of this session: state-changing requests must carry it in X-CSRF-Token. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  idleExpiresAt: number;
}

export interface NewSession {
  /** The cookie value (shown to the browser only; the server keeps its hash). */
  value: string;
  csrfToken: string;
  expiresAt: number;
}

function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Sign-in sessions: an opaque random value in an HttpOnly cookie, stored as its SHA-256 only; an idle and an
 * absolute expiry; a CSRF token derived from it (HMAC under a key of the data folder), so nothing more is stored.
 * Streams opened with a session (the live dashboard) are closed when it is revoked in this process; other
 * processes notice at their next check.
 */
export class SignInSessions {
  readonly #csrfKey: Buffer;
  readonly #watchers = new Map<string, Set<() => void>>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    rootSecret: Uint8Array,
    readonly settings: SessionSettings,
  ) {
    this.#csrfKey = Buffer.from(hkdfSync('sha256', rootSecret, Buffer.alloc(0), 'lockstep session csrf', 32));
  }

  csrfTokenOf(value: string): string {
    return createHmac('sha256', this.#csrfKey).update(value).digest('base64url');
  }

  /** Whether a header value is the session's CSRF token (constant time). */
  csrfMatches(session: ResolvedSession, header: unknown): boolean {
    if (typeof header !== 'string' || header.length !== session.csrfToken.length) return false;
    return timingSafeEqual(Buffer.from(header), Buffer.from(session.csrfToken));
  }

  async create(db: Db, accountId: string, meta: { address: string | null; userAgent: string | null }): Promise<NewSession> {
    const value = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = now + this.settings.maxMs;
    // Sessions past their absolute end are of no use to anyone: dropped as new ones are made.
    await db.deleteFrom('sign_in_sessions').where('expires_at', '<=', now).execute();
    await db
      .insertInto('sign_in_sessions')
      .values({ id_hash: hashOf(value), account_id: accountId, created_at: now, last_seen_at: now, expires_at: expiresAt, address: meta.address, user_agent: meta.userAgent?.slice(0, 200) ?? null })
      .execute();
    return { value, csrfToken: this.csrfTokenOf(value), expiresAt };
  }

  /**
   * The session behind a cookie value when it exists, has not been idle too long, has not reached its end, and its
   * account is enabled and may sign in; null otherwise. `touch` records the activity (requests; not stream checks).
   */
  async resolve(value: string, touch = true): Promise<ResolvedSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
    const idHash = hashOf(value);
    const row = await this.db
      .selectFrom('sign_in_sessions as s')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .select(['s.account_id', 's.created_at', 's.last_seen_at', 's.expires_at', 'a.name', 'a.role', 'a.disabled'])
      .where('s.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return null;
    const now = this.clock.now();
    const lastSeen = Number(row.last_seen_at);
    const expiresAt = Number(row.expires_at);
    if (row.disabled !== 0 || !SIGN_IN_ROLES.includes(row.role) || expiresAt <= now || lastSeen + this.settings.idleMs <= now) return null;
    let seen = lastSeen;
    if (touch && now - lastSeen >= TOUCH_EVERY_MS) {
      await this.db.updateTable('sign_in_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
      seen = now;
    }
    return {
      idHash,
      principal: { id: row.account_id, role: row.role },
      name: row.name,
      csrfToken: this.csrfTokenOf(value),
      createdAt: Number(row.created_at),
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, seen + this.settings.idleMs),
    };
  }

  /** Ends one session (sign-out). */
  async revoke(idHash: string): Promise<void> {
    await this.db.deleteFrom('sign_in_sessions').where('id_hash', '=', idHash).execute();
    this.#notify([idHash]);
  }

  /** Ends every session of an account (sign-out everywhere, new password, disabled account), but `keep`; returns how many. */
  async revokeAll(db: Db, accountId: string, keep?: string): Promise<number> {
    let q = db.selectFrom('sign_in_sessions').select('id_hash').where('account_id', '=', accountId);
    if (keep) q = q.where('id_hash', '!=', keep);
    const ended = (await q.execute()).map((r) => r.id_hash);
    if (ended.length) await db.deleteFrom('sign_in_sessions').where('id_hash', 'in', ended).execute();
    this.#notify(ended);
    return ended.length;
  }

  /** Sessions of each account that have not ended (for the accounts list). */
  async activeCounts(): Promise<Map<string, number>> {
    const now = this.clock.now();
    const rows = await this.db
      .selectFrom('sign_in_sessions')
      .select(['account_id', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', now - this.settings.idleMs)
      .groupBy('account_id')
      .execute();
    return new Map(rows.map((r) => [r.account_id, Number(r.n)]));
  }

  /** Calls `onEnd` when the session is revoked in this process; returns the unsubscribe. */
  watch(idHash: string, onEnd: () => void): () => void {
    let set = this.#watchers.get(idHash);
    if (!set) this.#watchers.set(idHash, (set = new Set()));
    set.add(onEnd);
    return () => {
      set.delete(onEnd);
      if (set.size === 0) this.#watchers.delete(idHash);
    };
  }

  #notify(idHashes: string[]): void {
    for (const h of idHashes) for (const fn of this.#watchers.get(h) ?? []) fn();
  }
}
