const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);
class WatchedConnection {
    inner;
    watcher;
    inTransaction = false;
    /** A write ran in the current transaction: its commit counts as a successful write. */
    wrote = false;
    /** The last statement error in the current transaction: the one to throw if ROLLBACK fails. */
    lastError = undefined;
    constructor(inner, watcher) {
        this.inner = inner;
        this.watcher = watcher;
    }
    async executeQuery(query) {
        try {
            const result = await this.inner.executeQuery(query);
            // Only a write that changed rows proves the storage takes writes: an UPDATE that matched nothing touches no
            // page and succeeds on a full disk (the scheduler runs several every tick). With RETURNING, the rows returned.
            if (WRITE_KINDS.has(query.query.kind) && (result.numAffectedRows ?? BigInt(result.rows.length)) > 0n) {
                if (this.inTransaction)
                    this.wrote = true;
                else
                    this.watcher.succeeded();
            }
            return result;
        }
        catch (err) {
            // The first error of a transaction is its cause (on Postgres the statements after it fail with 25P02).
            if (this.inTransaction)
                this.lastError ??= err;
            this.watcher.failed(err);
            throw err;
        }
    }
    streamQuery(query, chunkSize) {
        return this.inner.streamQuery(query, chunkSize);
    }
}
class WatchedDriver {
    inner;
    watcher;
    /** One wrapper per connection of the inner driver (Kysely compares connections by identity). */
    #wrappers = new WeakMap();
    constructor(inner, watcher) {
        this.inner = inner;
        this.watcher = watcher;
    }
    init() {
        return this.inner.init();
    }
    async acquireConnection() {
        // Postgres refusing connections (starting up, shutting down, too many clients) is a storage failure too.
        const connection = await this.inner.acquireConnection().catch((err) => {
            this.watcher.failed(err);
            throw err;
        });
        let wrapper = this.#wrappers.get(connection);
        if (!wrapper)
            this.#wrappers.set(connection, (wrapper = new WatchedConnection(connection, this.watcher)));
        return wrapper;
    }
    async beginTransaction(c, settings) {
        const w = c;
        await this.inner.beginTransaction(w.inner, settings);
        w.inTransaction = true;
        w.wrote = false;
        w.lastError = undefined;
    }
    async commitTransaction(c) {
        const w = c;
        try {
            await this.inner.commitTransaction(w.inner);
        }
        catch (err) {
            w.lastError = err;
            this.watcher.failed(err);
            throw err;
        }
        const wrote = w.wrote;
        this.#end(w);
        if (wrote)
            this.watcher.succeeded();
    }
    async rollbackTransaction(c) {
        const w = c;
        const first = w.lastError;
        this.#end(w);
        try {
            await this.inner.rollbackTransaction(w.inner);
        }
        catch (err) {
            if (first === undefined)
                throw err;
            this.watcher.rollbackFailed(err, first);
            throw first;
        }
    }
    async savepoint(c, name, compile) {
        await this.#savepointCall('savepoint', c, name, compile);
    }
    async rollbackToSavepoint(c, name, compile) {
        const w = c;
        const first = w.lastError;
        await this.#savepointCall('rollbackToSavepoint', c, name, compile).catch((err) => {
            // The transaction ended under the savepoint (SQLite rolled it back itself): the error that ended it wins.
            if (first === undefined)
                throw err;
            this.watcher.rollbackFailed(err, first);
            throw first;
        });
        // Rolled back to the savepoint: the error is undone with it.
        w.lastError = undefined;
    }
    async releaseSavepoint(c, name, compile) {
        await this.#savepointCall('releaseSavepoint', c, name, compile);
    }
    releaseConnection(c) {
        return this.inner.releaseConnection(c.inner);
    }
    destroy() {
        return this.inner.destroy();
    }
    #end(w) {
        w.inTransaction = false;
        w.wrote = false;
        w.lastError = undefined;
    }
    async #savepointCall(method, c, name, compile) {
        const run = this.inner[method];
        if (!run)
            throw new Error(`The ${method} method is not supported by this driver`);
        try {
            await run.call(this.inner, c.inner, name, compile);
        }
        catch (err) {
            this.watcher.failed(err);
            throw err;
        }
    }
}
/** `dialect` with the first error of a transaction winning over a failed rollback, and reports to `watcher`. */
export function watchedDialect(dialect, watcher) {
    return {
        createDriver: () => new WatchedDriver(dialect.createDriver(), watcher),
        createQueryCompiler: () => dialect.createQueryCompiler(),
        createAdapter: () => dialect.createAdapter(),
        createIntrospector: (db) => dialect.createIntrospector(db),
    };
}
//# sourceMappingURL=watched-dialect.js.map