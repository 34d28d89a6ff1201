/**
 * A unit of work: what one transaction changes, and what must happen once it committed. Every writer that changes
 * a locker's desired state or a parcel's history goes through it:
 * - `changeDesiredState` takes the locker's next desired-state version, records the change under it and queues its
 *   delta for the locker;
 * - `addHistory` inserts a parcel history row;
 * - `afterCommit` queues other work for after the commit.
 * Once the transaction committed, `committed()` runs the queue in order. A failure there is logged and counted,
 * never thrown and never dropped: the database is the truth, and the locker's next snapshot carries the change.
 */
import type { Transaction } from 'kysely';
import type { StateChange } from '../../shared/messages.js';
import type { ServerContext } from '../context.js';
import { prepareQuery } from '../store/prepared-query.js';
import type { ParcelStatus } from '../../shared/api/parcels.js';
import type { Database, HistorySource } from '../store/schema.js';
import type { DomainEvent } from '../domain-events.js';
import { publishDelta, recordDesiredChange, takeDesiredVersion } from './desired-state.js';

/** What a unit of work needs of the server. */
export type UnitDeps = Pick<ServerContext, 'db' | 'clock' | 'link' | 'log' | 'stats' | 'bus'>;

export interface HistoryEntry {
  parcelId: string;
  at: number;
  type: string;
  status: ParcelStatus;
  source: HistorySource;
  /** e.g. "lk_x#17" for a device event, the principal for an API call. */
  sourceRef: string;
  detail: Record<string, unknown>;
}

interface Queued {
  lockerId: string | undefined;
  what: string;
  run: () => Promise<void>;
}

type HistoryRow = { parcel_id: string; at: number; type: string; status: ParcelStatus; source: HistorySource; source_ref: string; detail: string };

// Compiled once per row count (server/store/prepared-query.ts): every booking and many device events write history.
const insertHistory = prepareQuery((db, a: { rows: HistoryRow[] }) => db.insertInto('parcel_history').values(a.rows));

/** Parcel history rows, inside the caller's transaction, in one insert: `UnitOfWork.addHistory`, for writers without one. */
export async function addHistory(trx: Transaction<Database>, ...entries: HistoryEntry[]): Promise<void> {
  const rows = entries.map((h): HistoryRow => ({ parcel_id: h.parcelId, at: h.at, type: h.type, status: h.status, source: h.source, source_ref: h.sourceRef, detail: JSON.stringify(h.detail) }));
  if (rows.length) await insertHistory.run(trx, { rows });
}

/** What `addHistory` announces once the transaction committed: the log's line for the entry. */
export function historyEvent(h: HistoryEntry): DomainEvent {
  return { type: 'parcel', change: h.type, parcelId: h.parcelId, status: h.status, source: h.source, sourceRef: h.sourceRef, at: h.at };
}

export class UnitOfWork {
  private readonly queue: Queued[] = [];

  constructor(
    readonly trx: Transaction<Database>,
    private readonly deps: UnitDeps,
  ) {}

  /**
   * Takes the locker's next desired-state version (undefined when there is no such locker). It locks the locker's
   * row for the rest of the transaction: a caller that takes it first learns that the locker exists and orders itself
   * behind other writers of that locker (booking groups lock their lockers' rows first: server/store/lock-order.ts). Record the change with `recordDesiredChange`.
   */
  takeDesiredVersion(lockerId: string): Promise<number | undefined> {
    return takeDesiredVersion(this.trx, lockerId);
  }

  /** Records `changes` under a version `takeDesiredVersion` gave, and queues its delta for after the commit. */
  async recordDesiredChange(lockerId: string, version: number, changes: StateChange[], now: number): Promise<void> {
    await recordDesiredChange(this.trx, lockerId, version, changes, now);
    this.publishAfterCommit(lockerId, version, changes);
  }

  /** Queues the delta of a change recorded in this transaction (a booking group records its changes together). */
  publishAfterCommit(lockerId: string, version: number, changes: StateChange[]): void {
    this.queue.push({ lockerId, what: 'desired-state delta not published; the next snapshot carries it', run: () => publishDelta(this.deps, lockerId, version, changes) });
  }

  /** Both halves at once: a new desired-state version holding `changes`, published after the commit. Returns it. */
  async changeDesiredState(lockerId: string, changes: StateChange[], now: number): Promise<number> {
    const version = await this.takeDesiredVersion(lockerId);
    if (version === undefined) throw new Error(`no locker ${lockerId}`);
    await this.recordDesiredChange(lockerId, version, changes, now);
    return version;
  }

  /** A parcel history row; once committed, announced as a domain event (the log's line for it). */
  async addHistory(h: HistoryEntry): Promise<void> {
    await addHistory(this.trx, h);
    this.announce(historyEvent(h));
  }

  /** Announces `event` on the change bus once the transaction committed (never after a rollback). */
  announce(event: DomainEvent): void {
    this.queue.push({ lockerId: undefined, what: 'domain event not announced', run: async () => this.deps.bus.domain(event) });
  }

  /** Queues `run` for after the commit, after what is queued already. */
  afterCommit(what: string, run: () => Promise<void>, lockerId?: string): void {
    this.queue.push({ lockerId, what, run });
  }

  /** Call once the transaction committed (never after a rollback): runs the queue in order, logging each failure. */
  async committed(): Promise<void> {
    for (const q of this.queue.splice(0)) {
      try {
        await q.run();
      } catch (err) {
        this.deps.stats.afterCommitFailures++;
        this.deps.log.warn({ err, ...(q.lockerId ? { lockerId: q.lockerId } : {}) }, q.what);
      }
    }
  }
}

/** Runs `work` in a new transaction; once it committed, runs what the unit of work queued. */
export async function inUnitOfWork<T>(deps: UnitDeps, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  const { value, uow } = await deps.db.transaction().execute(async (trx) => {
    const unit = new UnitOfWork(trx, deps);
    return { value: await work(unit), uow: unit };
  });
  await uow.committed();
  return value;
}
