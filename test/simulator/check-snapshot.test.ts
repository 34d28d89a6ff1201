import { describe, expect, it } from 'vitest';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelWithHistory } from '../../simulator/checker.js';
import { stableSnapshot } from '../../simulator/check-snapshot.js';

/**
 * A server and a fleet on a script: each read of the server's lockers sees the next committed counts, each read of
 * the devices the next recorded ones (one locker, lk_0).
 */
function scripted(committed: number[], recorded: number[]) {
  let viewReads = 0;
  let deviceReads = 0;
  let settles = 0;
  const at = (xs: number[], i: number) => xs[Math.min(i, xs.length - 1)] ?? 0;
  return {
    readViews: async () => [{ id: 'lk_0', events: { received: at(committed, viewReads++) } } as unknown as LockerView],
    readDevices: async () => [{ id: 'lk_0', lastSeq: at(recorded, deviceReads++) }],
    lastSeqs: (ds: { id: string; lastSeq: number }[]) => ds.map((d) => [d.id, d.lastSeq] as const),
    readParcels: async () => [{ id: `p_read_after_view_${viewReads}` } as unknown as ParcelWithHistory],
    settle: async () => void settles++,
    settles: () => settles,
  };
}

describe('the checker reads the server and the fleet while nothing changes', () => {
  it('takes the first snapshot in which nothing was committed or recorded during the reads', async () => {
    const s = scripted([5, 5], [5]);
    const snap = await stableSnapshot(s);
    expect(snap).toMatchObject({ reads: 1, stable: true, parcels: [{ id: 'p_read_after_view_1' }], devices: [{ lastSeq: 5 }] });
    expect(s.settles()).toBe(0);
  });

  it('reads again, after settling, when a locker committed a move between the reads', async () => {
    // try 1: 5 before the parcels, 6 after (a move committed); try 2: 6 and 6, the device at 6.
    const s = scripted([5, 6, 6, 6], [5, 6]);
    const snap = await stableSnapshot(s);
    expect(snap).toMatchObject({ reads: 2, stable: true, devices: [{ lastSeq: 6 }], parcels: [{ id: 'p_read_after_view_3' }] });
    expect(snap.views.map((v) => v.events.received)).toEqual([6]);
    expect(s.settles()).toBe(1);
  });

  it('reads again when a device recorded events the server has not committed yet', async () => {
    const s = scripted([5, 5, 7, 7], [7, 7]);
    const snap = await stableSnapshot(s);
    expect(snap).toMatchObject({ reads: 2, stable: true });
    expect(s.settles()).toBe(1);
  });

  it('gives up after its tries and says the snapshot is not stable', async () => {
    const s = scripted([1, 2, 3, 4, 5, 6, 7], [1]);
    const snap = await stableSnapshot({ ...s, attempts: 3 });
    expect(snap).toMatchObject({ reads: 3, stable: false });
    expect(s.settles()).toBe(2);
  });
});
