/**
 * A dialect around SQLite's or Postgres' that does two things at the one place every statement passes:
 *
 * - The first error of a transaction wins. SQLite rolls a transaction back by itself on SQLITE_FULL (and some I/O
 *   errors); Kysely then issues ROLLBACK, which fails with "cannot rollback - no transaction is active", and that
 *   error replaced the real one in every caller and log. Here a failed ROLLBACK is logged at debug and the error
 *   that ended the transaction is thrown in its place. The same for a Postgres connection that broke mid-transaction.
 * - It reports to the storage health tracker (storage-health.ts): every failed statement or commit (the tracker
 *   keeps only storage failures) and every write that committed.
 */
import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';

/** What the wrapped dialect tells (the server's storage health tracker and logger). */
export interface DialectWatcher {
  /** A statement or a commit failed. */
  failed(err: unknown): void;
  /** A write (insert, update, delete, merge) committed, alone or with its transaction. */
  succeeded(): void;
  /** A ROLLBACK failed after another error had ended the transaction (the other error is the one thrown). */
  rollbackFailed(err: unknown, first: unknown): void;
}

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);
/** A raw statement (sql`…`) that writes: e.g. a group's events on Postgres (server/sync/event-group-pg.ts). */
const RAW_WRITE = /\b(insert|update|delete|merge)\b/i;

function isWrite(query: CompiledQuery): boolean {
  return WRITE_KINDS.has(query.query.kind) || (query.query.kind === 'RawNode' && RAW_WRITE.test(query.sql));
}

class WatchedConnection implements DatabaseConnection {
  inTransaction = false;
  /** A write ran in the current transaction: its commit counts as a successful write. */
  wrote = false;
  /** The last statement error in the current transaction: the one to throw if ROLLBACK fails. */
  lastError: unknown = undefined;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly watcher: DialectWatcher,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(query);
      // Only a write that changed rows proves the storage takes writes: an UPDATE that matched nothing touches no
      // page and succeeds on a full disk (the scheduler runs several every tick). With RETURNING, the rows returned.
      if (isWrite(query) && (result.numAffectedRows ?? BigInt(result.rows.length)) > 0n) {
        if (this.inTransaction) this.wrote = true;
        else this.watcher.succeeded();
      }
      return result;
    } catch (err) {
      // The first error of a transaction is its cause (on Postgres the statements after it fail with 25P02).
      if (this.inTransaction) this.lastError ??= err;
      this.watcher.failed(err);
      throw err;
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

type CompileQuery = QueryCompiler['compileQuery'];

class WatchedDriver implements Driver {
  /** One wrapper per connection of the inner driver (Kysely compares connections by identity). */
  readonly #wrappers = new WeakMap<DatabaseConnection, WatchedConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly watcher: DialectWatcher,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // Postgres refusing connections (starting up, shutting down, too many clients) is a storage failure too.
    const connection = await this.inner.acquireConnection().catch((err: unknown) => {
      this.watcher.failed(err);
      throw err;
    });
    let wrapper = this.#wrappers.get(connection);
    if (!wrapper) this.#wrappers.set(connection, (wrapper = new WatchedConnection(connection, this.watcher)));
    return wrapper;
  }

  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const w = c as WatchedConnection;
    await this.inner.beginTransaction(w.inner, settings);
    w.inTransaction = true;
    w.wrote = false;
    w.lastError = undefined;
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    try {
      await this.inner.commitTransaction(w.inner);
    } catch (err) {
      w.lastError = err;
      this.watcher.failed(err);
      throw err;
    }
    const wrote = w.wrote;
    this.#end(w);
    if (wrote) this.watcher.succeeded();
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    const first = w.lastError;
    this.#end(w);
    try {
      await this.inner.rollbackTransaction(w.inner);
    } catch (err) {
      if (first === undefined) throw err;
      this.watcher.rollbackFailed(err, first);
      throw first;
    }
  }

  async savepoint(c: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    await this.#savepointCall('savepoint', c, name, compile);
  }

  async rollbackToSavepoint(c: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    const w = c as WatchedConnection;
    const first = w.lastError;
    await this.#savepointCall('rollbackToSavepoint', c, name, compile).catch((err: unknown) => {
      // The transaction ended under the savepoint (SQLite rolled it back itself): the error that ended it wins.
      if (first === undefined) throw err;
      this.watcher.rollbackFailed(err, first);
      throw first;
    });
    // Rolled back to the savepoint: the error is undone with it.
    w.lastError = undefined;
  }

  async releaseSavepoint(c: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    await this.#savepointCall('releaseSavepoint', c, name, compile);
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((c as WatchedConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  #end(w: WatchedConnection): void {
    w.inTransaction = false;
    w.wrote = false;
    w.lastError = undefined;
  }

  async #savepointCall(method: 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint', c: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    const run = this.inner[method];
    if (!run) throw new Error(`The ${method} method is not supported by this driver`);
    try {
      await run.call(this.inner, (c as WatchedConnection).inner, name, compile);
    } catch (err) {
      this.watcher.failed(err);
      throw err;
    }
  }
}

/** `dialect` with the first error of a transaction winning over a failed rollback, and reports to `watcher`. */
export function watchedDialect(dialect: Dialect, watcher: DialectWatcher): Dialect {
  return {
    createDriver: () => new WatchedDriver(dialect.createDriver(), watcher),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}
