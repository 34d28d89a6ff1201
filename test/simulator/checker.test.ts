import { describe, expect, it } from 'vitest';
import { checkInvariants, keepBooks } from '../../simulator/checker.js';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';

const parcel = (id: string, status: ParcelView['status'], compartmentId = 'A1'): ParcelView => ({
  id,
  status,
  lockerId: 'lk_a',
  compartmentId,
  size: 'S',
  reference: id,
  recipient: { email: 'x@y.example' },
  createdAt: 0,
  depositedAt: null,
  pickedUpAt: null,
  kind: 'delivery',
  sender: null,
  pickupDeadline: null,
  windowPausedSince: null,
  extensions: 0,
});

const locker = (parcelIds: Record<string, string | null>, events = { received: 2, lastSeq: 2 }): LockerView => ({
  id: 'lk_a',
  name: 'A',
  location: { lat: 0, lon: 0 },
  online: true,
  telemetry: null,
  lastSeenAt: 0,
  desiredVersion: 1,
  reportedVersion: 1,
  events,
  compartments: Object.entries(parcelIds).map(([id, parcelId]) => ({ id, size: 'S', state: parcelId ? 'occupied' : 'free', inService: true, parcelId })),
});

const tap = (seqs: number[], accepted: Record<string, number> = {}) => ({
  lastSeq: seqs.length,
  acceptedByJti: new Map(Object.entries(accepted)),
});

describe('invariant checker', () => {
  it('finds nothing wrong in a consistent end state', () => {
    const v = checkInvariants({ parcels: [parcel('p1', 'in_locker'), parcel('p2', 'picked_up', 'A2')], lockers: [locker({ A1: 'p1', A2: null })], devices: new Map([['lk_a', tap([1, 2], { j1: 1 })]]) });
    expect(v).toEqual([]);
  });

  it('reports a compartment holding two parcels', () => {
    const v = checkInvariants({ parcels: [parcel('p1', 'in_locker'), parcel('p2', 'booked')], lockers: [locker({ A1: 'p1' })], devices: new Map([['lk_a', tap([1, 2])]]) });
    expect(v.some((x) => x.includes('holds 2 parcels'))).toBe(true);
  });

  it('reports a grant that opened a door twice', () => {
    const v = checkInvariants({ parcels: [], lockers: [locker({})], devices: new Map([['lk_a', tap([1, 2], { j1: 2 })]]) });
    expect(v).toEqual(['grant j1 opened a door 2 times at lk_a']);
  });

  it('reports events the server lost or counted twice', () => {
    const lost = checkInvariants({ parcels: [], lockers: [locker({}, { received: 1, lastSeq: 1 })], devices: new Map([['lk_a', tap([1, 2])]]) });
    expect(lost[0]).toContain('the server committed 1');
  });

  it('reports a grant the server saw used twice', () => {
    const reused = { ...parcel('p1', 'picked_up'), history: [{ type: 'booked' }, { type: 'grant.reused' }] };
    const v = checkInvariants({ parcels: [reused], lockers: [locker({ A1: null })], devices: new Map([['lk_a', tap([1, 2])]]) });
    expect(v).toEqual(['a grant of parcel p1 was used more than once']);
  });

  it('reports a compartment whose parcel does not hold it', () => {
    const v = checkInvariants({ parcels: [parcel('p1', 'picked_up')], lockers: [locker({ A1: 'p1' })], devices: new Map([['lk_a', tap([1, 2])]]) });
    expect(v.some((x) => x.includes('which does not hold it'))).toBe(true);
  });

  it('keeps the books by status', () => {
    expect(keepBooks([parcel('a', 'booked'), parcel('b', 'in_locker'), parcel('c', 'picked_up'), parcel('d', 'cancelled')])).toEqual({
      booked: 4,
      inTransit: 1,
      inLockers: 1,
      pickedUp: 1,
      returned: 0,
      cancelled: 1,
    });
  });
});
