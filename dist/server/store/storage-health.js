import { classifyStorageError, storageErrorCode } from './storage-errors.js';
/** Built once per server (createServer) and reached as `ctx.storage`. */
export class StorageHealth {
    log;
    clock;
    probeIntervalMs;
    #state;
    #cancelProbe;
    #probing;
    #probe;
    constructor(log, clock, probeIntervalMs) {
        this.log = log;
        this.clock = clock;
        this.probeIntervalMs = probeIntervalMs;
    }
    /** Undefined while writes succeed. */
    get state() {
        return this.#state;
    }
    /** A statement or commit failed with `err`: records it when it is a storage failure. */
    failed(err) {
        const failure = classifyStorageError(err);
        if (!failure)
            return;
        const code = storageErrorCode(err);
        const was = this.#state;
        if (was?.failure === failure && was.code === code)
            return;
        this.#state = { failure, code, since: was?.since ?? this.clock.now() };
        this.log.error({ err, failure, code }, 'storage refuses writes; not ready until a write commits again');
        this.#scheduleProbe();
    }
    /** A write committed: the storage takes writes again. */
    succeeded() {
        const was = this.#state;
        if (!was)
            return;
        this.#state = undefined;
        this.#cancelProbe?.();
        this.#cancelProbe = undefined;
        this.log.info({ failure: was.failure, code: was.code, failingMs: this.clock.now() - was.since }, 'storage takes writes again');
    }
    /**
     * The probe: one small write that commits (its success or failure reaches `failed`/`succeeded` through the
     * driver). Runs only while a failure is recorded. Set once by createServer after the database is open.
     */
    setProbe(probe) {
        this.#probe = probe;
        if (this.#state)
            this.#scheduleProbe();
    }
    /** One probe now (tests drive it; the timer calls it). Resolves when it ended; never rejects. */
    probeOnce() {
        const probe = this.#probe;
        if (!probe)
            return Promise.resolve();
        this.#probing ??= probe()
            .then(() => undefined, (err) => this.log.debug({ err }, 'storage probe failed'))
            .finally(() => {
            this.#probing = undefined;
        });
        return this.#probing;
    }
    /** Stops the probe timer (server stop). */
    close() {
        this.#probe = undefined;
        this.#cancelProbe?.();
        this.#cancelProbe = undefined;
    }
    #scheduleProbe() {
        if (this.#cancelProbe || !this.#probe)
            return;
        this.#cancelProbe = this.clock.setTimeout(() => {
            this.#cancelProbe = undefined;
            void this.probeOnce().then(() => {
                if (this.#state)
                    this.#scheduleProbe();
            });
        }, this.probeIntervalMs);
    }
}
/** What the database driver tells the tracker (watched-dialect.ts); a ROLLBACK that failed after the real error is logged at debug. */
export function storageWatcher(health, log) {
    return {
        failed: (err) => health.failed(err),
        succeeded: () => health.succeeded(),
        rollbackFailed: (err, first) => log.debug({ err, first: storageErrorCode(first) ?? first?.code }, 'rollback failed after the transaction had ended; the error that ended it is the one reported'),
    };
}
/** The lease row the probe writes (one row, whoever writes it last; no process holds it: it has always expired). */
const PROBE_ROW = 'storage-probe';
/** The probe: one upserted row, committed on its own (a page of the database and its journal). */
export async function probeWrite(db, now) {
    await db
        .insertInto('leases')
        .values({ name: PROBE_ROW, holder: PROBE_ROW, expires_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ expires_at: now }))
        .execute();
}
//# sourceMappingURL=storage-health.js.map