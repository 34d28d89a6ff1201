import { prepareQuery } from '../store/prepared-query.js';
import { publishDelta, recordDesiredChange, takeDesiredVersion } from './desired-state.js';
// Compiled once (server/store/prepared-query.ts): every booking and many device events write history.
const insertHistory = prepareQuery((db, row) => db.insertInto('parcel_history').values(row));
/** A parcel history row, inside the caller's transaction: `UnitOfWork.addHistory`, for writers without one. */
export async function addHistory(trx, h) {
    await insertHistory.run(trx, { parcel_id: h.parcelId, at: h.at, type: h.type, status: h.status, source: h.source, source_ref: h.sourceRef, detail: JSON.stringify(h.detail) });
}
export class UnitOfWork {
    trx;
    deps;
    queue = [];
    constructor(trx, deps) {
        this.trx = trx;
        this.deps = deps;
    }
    /**
     * Takes the locker's next desired-state version (undefined when there is no such locker). It locks the locker's
     * row for the rest of the transaction: a caller that takes it first (a booking) learns that the locker exists and
     * orders itself behind other writers of that locker. Record the change with `recordDesiredChange`.
     */
    takeDesiredVersion(lockerId) {
        return takeDesiredVersion(this.trx, lockerId);
    }
    /** Records `changes` under a version `takeDesiredVersion` gave, and queues its delta for after the commit. */
    async recordDesiredChange(lockerId, version, changes, now) {
        await recordDesiredChange(this.trx, lockerId, version, changes, now);
        this.queue.push({ lockerId, what: 'desired-state delta not published; the next snapshot carries it', run: () => publishDelta(this.deps, lockerId, version, changes) });
    }
    /** Both halves at once: a new desired-state version holding `changes`, published after the commit. Returns it. */
    async changeDesiredState(lockerId, changes, now) {
        const version = await this.takeDesiredVersion(lockerId);
        if (version === undefined)
            throw new Error(`no locker ${lockerId}`);
        await this.recordDesiredChange(lockerId, version, changes, now);
        return version;
    }
    addHistory(h) {
        return addHistory(this.trx, h);
    }
    /** Queues `run` for after the commit, after what is queued already. */
    afterCommit(what, run, lockerId) {
        this.queue.push({ lockerId, what, run });
    }
    /** Call once the transaction committed (never after a rollback): runs the queue in order, logging each failure. */
    async committed() {
        for (const q of this.queue.splice(0)) {
            try {
                await q.run();
            }
            catch (err) {
                this.deps.stats.afterCommitFailures++;
                this.deps.log.warn({ err, ...(q.lockerId ? { lockerId: q.lockerId } : {}) }, q.what);
            }
        }
    }
}
/** Runs `work` in a new transaction; once it committed, runs what the unit of work queued. */
export async function inUnitOfWork(deps, work) {
    const { value, uow } = await deps.db.transaction().execute(async (trx) => {
        const unit = new UnitOfWork(trx, deps);
        return { value: await work(unit), uow: unit };
    });
    await uow.committed();
    return value;
}
//# sourceMappingURL=unit-of-work.js.map