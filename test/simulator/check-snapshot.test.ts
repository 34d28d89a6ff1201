import { describe, expect, it } from 'vitest';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelWithHistory } from '../../simulator/checker.js';
import { stableSnapshot } from '../../simulator/check-snapshot.js';

/** A server whose lockers commit events on a script: each read of the lockers sees the next state. */
function scripted(received: number[][]) {
  let reads = 0;
  let settles = 0;
  const view = (id: string, n: number) => ({ id, events: { received: n, lastSeq: n } }) as unknown as LockerView;
  return {
    readViews: async () => (received[Math.min(reads++, received.length - 1)] ?? []).map((n, i) => view(`lk_${i}`, n)),
    readParcels: async () => [{ id: `p_after_read_${reads}` } as unknown as ParcelWithHistory],
    settle: async () => void settles++,
    settles: () => settles,
  };
}

describe('the checker reads the server while nothing changes', () => {
  it('takes the first snapshot whose lockers did not commit events during the parcels read', async () => {
    const s = scripted([[3, 5], [3, 5]]);
    const snap = await stableSnapshot(s);
    expect(snap).toMatchObject({ reads: 1, stable: true, parcels: [{ id: 'p_after_read_1' }] });
    expect(s.settles()).toBe(0);
  });

  it('reads again, after settling, when a locker committed a move between the two reads', async () => {
    // read 1: lk_1 at 5; after the parcels, lk_1 at 6 (a move committed). Then 6 and 6: stable.
    const s = scripted([[3, 5], [3, 6], [3, 6], [3, 6]]);
    const snap = await stableSnapshot(s);
    expect(snap.reads).toBe(2);
    expect(snap.stable).toBe(true);
    expect(snap.views.map((v) => v.events.received)).toEqual([3, 6]);
    expect(snap.parcels).toEqual([{ id: 'p_after_read_3' }]);
    expect(s.settles()).toBe(1);
  });

  it('gives up after its tries and says the snapshot is not stable', async () => {
    const s = scripted([[1], [2], [3], [4], [5], [6], [7]]);
    const snap = await stableSnapshot({ ...s, attempts: 3 });
    expect(snap).toMatchObject({ reads: 3, stable: false });
    expect(s.settles()).toBe(2);
  });
});
