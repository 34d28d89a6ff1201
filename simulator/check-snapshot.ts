import type { LockerView } from '../shared/api/lockers.js';
import type { ParcelWithHistory } from './checker.js';

/** The server's lockers and parcels as the invariant checker compares them. */
export interface Snapshot {
  views: LockerView[];
  parcels: ParcelWithHistory[];
}

export interface SnapshotReads {
  readViews(): Promise<LockerView[]>;
  readParcels(): Promise<ParcelWithHistory[]>;
  /** Waits before another try (the fleet converging again). */
  settle(): Promise<void>;
  /** Most tries (default 5). */
  attempts?: number;
}

/**
 * Lockers and parcels read while nothing changed on the server. The two are read one after the other (thousands of
 * requests), and a locker can still commit events after the fleet looked converged: a door session that goes on
 * after the courier left (a jammed lock, the parcel moved to another compartment, that one tried in turn). A move
 * committed between the reads shows a compartment from before it next to a parcel from after it: a violation that
 * was never in the database. So the lockers are read again after the parcels; when any locker's committed events
 * changed meanwhile, the whole snapshot is read again after `settle`. `stable` is false when every try saw a change.
 */
export async function stableSnapshot(r: SnapshotReads): Promise<Snapshot & { reads: number; stable: boolean }> {
  const attempts = r.attempts ?? 5;
  let last: Snapshot | undefined;
  for (let i = 1; i <= attempts; i++) {
    const views = await r.readViews();
    const parcels = await r.readParcels();
    const after = new Map((await r.readViews()).map((v) => [v.id, v.events.received]));
    last = { views, parcels };
    if (views.every((v) => after.get(v.id) === v.events.received)) return { ...last, reads: i, stable: true };
    if (i < attempts) await r.settle();
  }
  if (!last) throw new Error('stableSnapshot: attempts must be at least 1');
  return { ...last, reads: attempts, stable: false };
}
