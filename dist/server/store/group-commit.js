import { compareIds, isRetryableTransactionError, retryTransaction } from './retry.js';
/** Plain mode: `write` gets the group's items in order and returns one result per item; `alone` is set on a retry. */
export function plainGroupCommit(o, write) {
    return groupCommit(o, async (db, items) => {
        const results = await db.transaction().execute((trx) => write(trx, items, false));
        return results.map((value) => ({ ok: true, value }));
    }, async (trx, item) => {
        const [one] = await write(trx, [item], true);
        return one;
    }, true);
}
const SAVEPOINT = 'item';
/** Savepoint mode: `write` runs one item; a refused item rolls back only its own savepoint. */
export function savepointGroupCommit(o, write) {
    return groupCommit(o, (db, items) => inSavepoints(db, items, write), write, false);
}
function groupCommit(o, runGroup, writeAlone, groupOfOne) {
    const pending = [];
    const stats = { groups: 0, items: 0, failedGroups: 0 };
    let running = false;
    async function drain() {
        try {
            while (pending.length) {
                const group = pending.splice(0, o.maxGroup).sort((a, b) => compareIds(a.item.lockerId, b.item.lockerId));
                let outcomes = null;
                if (group.length > 1 || groupOfOne) {
                    try {
                        outcomes = await runGroup(o.db, group.map((p) => p.item));
                        if (group.length > 1) {
                            stats.groups++;
                            stats.items += group.length;
                        }
                    }
                    catch (err) {
                        stats.failedGroups++;
                        o.onGroupFailed(err, group.length);
                    }
                }
                if (outcomes) {
                    group.forEach((p, i) => {
                        const out = outcomes[i];
                        if (out.ok)
                            p.resolve(out.value);
                        else
                            p.reject(out.err);
                    });
                }
                else {
                    // One item alone, or a group that failed as a whole: each in its own transaction, retried.
                    for (const p of group) {
                        try {
                            p.resolve(await retryTransaction(() => o.db.transaction().execute((trx) => writeAlone(trx, p.item))));
                        }
                        catch (err) {
                            p.reject(err);
                        }
                    }
                }
                // Let the socket reads and requests of this turn queue their items before the next group is taken.
                await new Promise((resolve) => setImmediate(resolve));
            }
        }
        finally {
            running = false;
        }
    }
    return {
        add(item) {
            const done = new Promise((resolve, reject) => pending.push({ item, resolve, reject }));
            if (!running) {
                running = true;
                // After this turn's I/O callbacks: every item that came in with this one joins its group.
                setImmediate(() => void drain());
            }
            return done;
        },
        stats: () => ({ ...stats }),
    };
}
/** The group in one transaction, a savepoint per item; throws when the transaction as a whole failed. */
async function inSavepoints(db, items, write) {
    const trx = await db.startTransaction().execute();
    const outcomes = [];
    try {
        for (const item of items) {
            const inner = await trx.savepoint(SAVEPOINT).execute();
            try {
                const value = await write(inner, item);
                await inner.releaseSavepoint(SAVEPOINT).execute();
                outcomes.push({ ok: true, value });
            }
            catch (err) {
                // Aborted by the database (deadlock, busy): the whole group runs again, item by item.
                if (isRetryableTransactionError(err))
                    throw err;
                await inner.rollbackToSavepoint(SAVEPOINT).execute();
                outcomes.push({ ok: false, err });
            }
        }
        await trx.commit().execute();
        return outcomes;
    }
    catch (err) {
        if (!trx.isCommitted && !trx.isRolledBack)
            await trx.rollback().execute().catch(() => undefined);
        throw err;
    }
}
//# sourceMappingURL=group-commit.js.map