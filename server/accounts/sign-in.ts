import type { Clock } from '../../shared/clock.js';
import type { ServerConfig } from '../config-schema.js';
import { LockstepError } from '../errors.js';
import type { Db } from '../store/database.js';
import type { AccountRow } from '../store/schema.js';
import { accountsNamed, claimTotpStep, clearFailures, findCredentials, pruneFailures, readFailures, updateCredentials, writeFailure } from './credential-store.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { SecretBox } from './secret-box.js';
import { SIGN_IN_ROLES, SignInSessions, type NewSession } from './sessions.js';
import { afterFailure, lockedFor, retryAfterSec, type LockoutPolicy } from './sign-in-lockout.js';
import { acceptTotp, newTotpSecret, totpUri } from './totp.js';

export interface SignInDeps {
  db: Db;
  clock: Clock;
  config: ServerConfig;
  /** A secret of the data folder the CSRF and TOTP-encryption keys are derived from. */
  rootSecret: Uint8Array;
}

export interface SignInAttempt {
  name: string;
  password: string;
  totp?: string | undefined;
  address: string;
  userAgent: string | null;
}

/**
 * Password sign-in, lockout, passwords and the TOTP second factor: the domain of operator sign-in. Refusals are coded
 * errors; a wrong name, a wrong password, a disabled account and a wrong code all read SIGN_IN_FAILED, and take as long.
 */
export class SignIn {
  readonly sessions: SignInSessions;
  readonly #box: SecretBox;
  readonly #nameLock: LockoutPolicy;
  readonly #addressLock: LockoutPolicy;
  #decoy: Promise<string> | undefined;

  constructor(private readonly deps: SignInDeps) {
    const { config } = deps;
    this.sessions = new SignInSessions(deps.db, deps.clock, deps.rootSecret, { idleMs: config.sessionIdleSec * 1000, maxMs: config.sessionMaxSec * 1000 });
    this.#box = new SecretBox(deps.rootSecret, 'totp secrets');
    this.#nameLock = { maxFailures: config.signInMaxFailures, periodMs: config.signInLockoutSec * 1000 };
    this.#addressLock = { maxFailures: config.signInAddressMaxFailures, periodMs: config.signInLockoutSec * 1000 };
  }

  async signIn(attempt: SignInAttempt): Promise<{ account: AccountRow; session: NewSession }> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const nameKey = `name:${attempt.name.trim().toLowerCase()}`;
    const addressKey = `address:${attempt.address}`;
    const counts = await readFailures(db, [nameKey, addressKey]);
    const addressLocked = lockedFor(counts.get(addressKey), now);
    if (addressLocked > 0) throw new LockstepError('SIGN_IN_THROTTLED', { retryAfterSec: retryAfterSec(addressLocked) });
    const nameLocked = lockedFor(counts.get(nameKey), now);
    if (nameLocked > 0) throw new LockstepError('SIGN_IN_LOCKED', { retryAfterSec: retryAfterSec(nameLocked) });

    const candidates = (await accountsNamed(db, attempt.name)).filter((a) => SIGN_IN_ROLES.includes(a.role));
    let account: AccountRow | undefined;
    let hash: string | null = null;
    for (const a of candidates) {
      const creds = await findCredentials(db, a.id);
      if (creds?.password_hash) {
        account = a;
        hash = creds.password_hash;
        break;
      }
    }
    // The same work whether the name is known or not.
    const matches = await verifyPassword(attempt.password, hash ?? (await this.#decoyHash()));
    const fail = async () => {
      await pruneFailures(db, now, this.#nameLock.periodMs);
      await writeFailure(db, nameKey, afterFailure(counts.get(nameKey), now, this.#nameLock));
      await writeFailure(db, addressKey, afterFailure(counts.get(addressKey), now, this.#addressLock));
      return new LockstepError('SIGN_IN_FAILED');
    };
    if (!account || !matches || account.disabled !== 0) throw await fail();

    const creds = await findCredentials(db, account.id);
    if (creds && creds.totp_enabled !== 0 && creds.totp_secret) {
      if (attempt.totp === undefined || attempt.totp === '') throw new LockstepError('TOTP_REQUIRED');
      const secret = this.#box.open(creds.totp_secret, account.id);
      const step = secret ? acceptTotp(secret, attempt.totp, now, creds.totp_last_step === null ? null : Number(creds.totp_last_step)) : null;
      if (step === null || !(await claimTotpStep(db, account.id, step))) throw await fail();
    }
    await clearFailures(db, nameKey);
    const session = await this.sessions.create(db, account.id, { address: attempt.address, userAgent: attempt.userAgent });
    return { account, session };
  }

  /**
   * Sets an operator's or admin's password (policy checked, hashed) and ends the account's sessions but `keepSession`
   * (the one that changed its own password).
   */
  async setPassword(account: AccountRow, password: string, keepSession?: string): Promise<{ sessionsEnded: number }> {
    const { db, clock, config } = this.deps;
    if (!SIGN_IN_ROLES.includes(account.role)) throw new LockstepError('PASSWORD_NOT_ALLOWED', { role: account.role });
    const problem = passwordProblem(password, account.name);
    if (problem) throw new LockstepError('PASSWORD_TOO_WEAK', { problem });
    for (const other of await accountsNamed(db, account.name)) {
      if (other.id !== account.id && (await findCredentials(db, other.id))?.password_hash) throw new LockstepError('ACCOUNT_NAME_TAKEN');
    }
    const hash = await hashPassword(password, config.passwordScryptLogN);
    return db.transaction().execute(async (trx) => {
      await updateCredentials(trx, account.id, { password_hash: hash, password_set_at: clock.now() }, clock.now());
      return { sessionsEnded: await this.sessions.revokeAll(trx, account.id, keepSession) };
    });
  }

  /** An account's own password change: the current one first. */
  async changeOwnPassword(account: AccountRow, current: string, next: string, keepSession?: string): Promise<{ sessionsEnded: number }> {
    await this.checkPassword(account, current);
    return this.setPassword(account, next, keepSession);
  }

  /** Refuses with PASSWORD_WRONG unless the password is the account's (asked again before sensitive changes). */
  async checkPassword(account: AccountRow, password: string): Promise<void> {
    const creds = await findCredentials(this.deps.db, account.id);
    const ok = await verifyPassword(password, creds?.password_hash ?? (await this.#decoyHash()));
    if (!ok || !creds?.password_hash) throw new LockstepError('PASSWORD_WRONG');
  }

  /** Starts (or restarts) the enrolment of a second factor: a new secret, shown once, pending until confirmed. */
  async startTotp(account: AccountRow): Promise<{ secret: string; uri: string }> {
    const { db, clock } = this.deps;
    const creds = await findCredentials(db, account.id);
    if (creds?.totp_enabled) throw new LockstepError('TOTP_ALREADY_ENABLED');
    const secret = newTotpSecret();
    await updateCredentials(db, account.id, { totp_secret: this.#box.seal(secret, account.id), totp_enabled: 0, totp_last_step: null }, clock.now());
    return { secret, uri: totpUri(secret, account.name) };
  }

  /** Confirms the pending second factor with a code from the app; from then on sign-in asks for a code. */
  async confirmTotp(account: AccountRow, code: string): Promise<void> {
    const { db, clock } = this.deps;
    const creds = await findCredentials(db, account.id);
    if (!creds?.totp_secret || creds.totp_enabled) throw new LockstepError('TOTP_NOT_PENDING');
    const secret = this.#box.open(creds.totp_secret, account.id);
    const step = secret ? acceptTotp(secret, code, clock.now(), null) : null;
    if (step === null) throw new LockstepError('TOTP_CODE_INVALID');
    await updateCredentials(db, account.id, { totp_enabled: 1, totp_last_step: step }, clock.now());
  }

  /** Removes the second factor (the account itself, or an admin for a lost phone). */
  async removeTotp(accountId: string): Promise<void> {
    await updateCredentials(this.deps.db, accountId, { totp_secret: null, totp_enabled: 0, totp_last_step: null }, this.deps.clock.now());
  }

  #decoyHash(): Promise<string> {
    this.#decoy ??= decoyHash(this.deps.config.passwordScryptLogN);
    return this.#decoy;
  }
}
