/**
 * Which errors of the database (SQLite, Postgres) and the file system mean "the storage cannot take writes now",
 * in one place. The domain keeps throwing what it throws; the HTTP shell answers such an error with a coded 503
 * (server/http/app.ts), and the storage health tracker (storage-health.ts) reports the server not ready.
 */
/** Seconds a client is asked to wait (Retry-After) before it tries a write again. */
export const STORAGE_RETRY_AFTER_SEC = 5;
/** SQLite (better-sqlite3's `code`): extended codes start with the primary one (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED). */
function classifySqlite(code) {
    if (code === 'SQLITE_FULL')
        return 'STORAGE_FULL';
    if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN'))
        return 'STORAGE_UNAVAILABLE';
    return undefined;
}
/** Postgres SQLSTATE (pg's `code`): class 53 insufficient resources, 08 connection, 57P admin/crash shutdown. */
function classifyPostgres(code) {
    if (code === '53100')
        return 'STORAGE_FULL'; // disk_full
    if (code.startsWith('53'))
        return 'STORAGE_UNAVAILABLE'; // out of memory, too many connections, …
    if (code.startsWith('08'))
        return 'STORAGE_UNAVAILABLE'; // connection exception
    if (code === '25006')
        return 'STORAGE_UNAVAILABLE'; // read_only_sql_transaction (a standby, or default_transaction_read_only)
    if (code === '57P01' || code === '57P02' || code === '57P03')
        return 'STORAGE_UNAVAILABLE'; // admin/crash shutdown, cannot connect now
    return undefined;
}
/** Node's file system errors. */
const FS_CODES = {
    ENOSPC: 'STORAGE_FULL',
    EDQUOT: 'STORAGE_FULL',
    EROFS: 'STORAGE_UNAVAILABLE',
    EIO: 'STORAGE_UNAVAILABLE',
};
/** The storage code of one error object, its own `code` only. */
function classifyOne(err) {
    const code = err?.code;
    if (typeof code !== 'string')
        return undefined;
    if (code.startsWith('SQLITE_'))
        return classifySqlite(code);
    if (/^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E'))
        return classifyPostgres(code);
    return FS_CODES[code];
}
/** The driver's error code behind `err` (its own, or a cause's), for logs: `SQLITE_FULL`, `53100`, `ENOSPC`. */
export function storageErrorCode(err) {
    for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
        if (classifyOne(e))
            return e.code;
    }
    return undefined;
}
/**
 * What a failure of the storage `err` is (looking through up to five `cause`s, as a wrapped driver error may
 * be), or undefined when `err` is not about the storage (a constraint, a domain refusal, a bug).
 */
export function classifyStorageError(err) {
    for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
        const failure = classifyOne(e);
        if (failure)
            return failure;
    }
    return undefined;
}
//# sourceMappingURL=storage-errors.js.map