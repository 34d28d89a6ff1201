/**
 * Postgres aborts one of two transactions that wait on each other (deadlock, 40P01) or that cannot be
 * serialised (40001); SQLite answers SQLITE_BUSY when another process holds the write lock past busy_timeout.
 * Such a transaction changed nothing and can simply run again.
 */
export function isRetryableTransactionError(err) {
    const code = err?.code;
    return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY';
}
/**
 * Runs `attempt` (a whole transaction, with no effect outside the database before it commits) again when the
 * database aborted it for a retryable reason, up to `tries` times in all, with a short random pause between.
 */
export async function retryTransaction(attempt, tries = 3) {
    for (let n = 1;; n++) {
        try {
            return await attempt();
        }
        catch (err) {
            if (n >= tries || !isRetryableTransactionError(err))
                throw err;
            await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * n));
        }
    }
}
/**
 * The one order in which grouped writers (bookings, event batches, heartbeats, reports) take lockers' rows: by id.
 * Two groups that lock rows in the same order cannot deadlock each other on Postgres.
 */
export const compareIds = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
//# sourceMappingURL=retry.js.map