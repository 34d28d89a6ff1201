import type { LockerView } from '../shared/api/lockers.js';
import type { ParcelWithHistory } from './checker.js';

export interface SnapshotReads<D> {
  readViews(): Promise<LockerView[]>;
  /** What the lockers themselves recorded, read between the two reads of the server's lockers. */
  readDevices(): Promise<D>;
  /** Each locker's last recorded seq, from what `readDevices` gave. */
  lastSeqs(devices: D): Iterable<readonly [string, number]>;
  /** The parcels (of the lockers `readDevices` gave). */
  readParcels(devices: D): Promise<ParcelWithHistory[]>;
  /** Waits before another try (the fleet converging again). */
  settle(): Promise<void>;
  /** Most tries (default 5). */
  attempts?: number;
}

export interface Snapshot<D> {
  views: LockerView[];
  devices: D;
  parcels: ParcelWithHistory[];
  /** How many times it was read. */
  reads: number;
  /** False when every try saw a locker commit or record events during the reads. */
  stable: boolean;
}

/**
 * The lockers (as the server and as the devices saw them) and the parcels, read while nothing changed. They are
 * read one after the other (thousands of requests), and a locker can still record and commit events after the
 * fleet looked converged: a door session that goes on after the courier left (a jammed lock, the parcel moved to
 * another compartment, that one tried in turn). A move committed between the reads shows a compartment from before
 * it next to a parcel from after it: a violation that was never in the database. So the server's lockers are read
 * again last; when any locker's committed events changed meanwhile, or a device recorded events the server has not
 * committed, the whole snapshot is read again after `settle`.
 */
export async function stableSnapshot<D>(r: SnapshotReads<D>): Promise<Snapshot<D>> {
  const attempts = r.attempts ?? 5;
  let last: Snapshot<D> | undefined;
  for (let i = 1; i <= attempts; i++) {
    const views = await r.readViews();
    const devices = await r.readDevices();
    const parcels = await r.readParcels(devices);
    const after = new Map((await r.readViews()).map((v) => [v.id, v.events.received]));
    const unchanged = views.every((v) => after.get(v.id) === v.events.received);
    const caughtUp = [...r.lastSeqs(devices)].every(([id, seq]) => after.get(id) === seq);
    last = { views, devices, parcels, reads: i, stable: unchanged && caughtUp };
    if (last.stable) return last;
    if (i < attempts) await r.settle();
  }
  if (!last) throw new Error('stableSnapshot: attempts must be at least 1');
  return last;
}
