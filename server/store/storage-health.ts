/**
 * Whether the storage takes writes, as the last write found: set by a storage error (storage-errors.ts) from any
 * path (the database driver reports every failed statement and commit: HTTP requests, group commits, device
 * writers, the scheduler), cleared by the next write that commits. While it is set, /readyz answers 503 with the
 * code, and a probe (one small committed write on the injected clock) runs every `probeIntervalMs`, so the
 * server becomes ready again by itself when space returns, even with no traffic.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Db } from './database.js';
import { classifyStorageError, storageErrorCode, type StorageFailure } from './storage-errors.js';
import type { DialectWatcher } from './watched-dialect.js';

export interface StorageState {
  failure: StorageFailure;
  /** The driver's code of the error that set it (SQLITE_FULL, 53100, …). */
  code: string | undefined;
  since: number;
}

/** Built once per server (createServer) and reached as `ctx.storage`. */
export class StorageHealth {
  #state: StorageState | undefined;
  #cancelProbe: (() => void) | undefined;
  #probing: Promise<void> | undefined;
  #probe: (() => Promise<unknown>) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly probeIntervalMs: number,
  ) {}

  /** Undefined while writes succeed. */
  get state(): StorageState | undefined {
    return this.#state;
  }

  /** A statement or commit failed with `err`: records it when it is a storage failure. */
  failed(err: unknown): void {
    const failure = classifyStorageError(err);
    if (!failure) return;
    const code = storageErrorCode(err);
    const was = this.#state;
    if (was?.failure === failure && was.code === code) return;
    this.#state = { failure, code, since: was?.since ?? this.clock.now() };
    this.log.error({ err, failure, code }, 'storage refuses writes; not ready until a write commits again');
    this.#scheduleProbe();
  }

  /** A write committed: the storage takes writes again. */
  succeeded(): void {
    const was = this.#state;
    if (!was) return;
    this.#state = undefined;
    this.#cancelProbe?.();
    this.#cancelProbe = undefined;
    this.log.info({ failure: was.failure, code: was.code, failingMs: this.clock.now() - was.since }, 'storage takes writes again');
  }

  /**
   * The probe: one small write that commits (its success or failure reaches `failed`/`succeeded` through the
   * driver). Runs only while a failure is recorded. Set once by createServer after the database is open.
   */
  setProbe(probe: () => Promise<unknown>): void {
    this.#probe = probe;
    if (this.#state) this.#scheduleProbe();
  }

  /** One probe now (tests drive it; the timer calls it). Resolves when it ended; never rejects. */
  probeOnce(): Promise<void> {
    const probe = this.#probe;
    if (!probe) return Promise.resolve();
    this.#probing ??= probe()
      .then(
        () => undefined,
        (err: unknown) => this.log.debug({ err }, 'storage probe failed'),
      )
      .finally(() => {
        this.#probing = undefined;
      });
    return this.#probing;
  }

  /** Stops the probe timer (server stop). */
  close(): void {
    this.#probe = undefined;
    this.#cancelProbe?.();
    this.#cancelProbe = undefined;
  }

  #scheduleProbe(): void {
    if (this.#cancelProbe || !this.#probe) return;
    this.#cancelProbe = this.clock.setTimeout(() => {
      this.#cancelProbe = undefined;
      void this.probeOnce().then(() => {
        if (this.#state) this.#scheduleProbe();
      });
    }, this.probeIntervalMs);
  }
}

/** What the database driver tells the tracker (watched-dialect.ts); a ROLLBACK that failed after the real error is logged at debug. */
export function storageWatcher(health: StorageHealth, log: Logger): DialectWatcher {
  return {
    failed: (err) => health.failed(err),
    succeeded: () => health.succeeded(),
    rollbackFailed: (err, first) => log.debug({ err, first: storageErrorCode(first) ?? (first as { code?: unknown } | null)?.code }, 'rollback failed after the transaction had ended; the error that ended it is the one reported'),
  };
}

/** The lease row the probe writes (one row, whoever writes it last; no process holds it: it has always expired). */
const PROBE_ROW = 'storage-probe';

/** The probe: one upserted row, committed on its own (a page of the database and its journal). */
export async function probeWrite(db: Db, now: number): Promise<void> {
  await db
    .insertInto('leases')
    .values({ name: PROBE_ROW, holder: PROBE_ROW, expires_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ expires_at: now }))
    .execute();
}
