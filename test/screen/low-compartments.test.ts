import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankFree } from '../../server/parcels/allocation.js';
import type { BookingView } from '../../shared/api/parcels.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

describe('allocation prefers low compartments for accessible bookings', () => {
  const compartments = [
    { id: 'A1', size: 'S' as const, inService: true, parcelId: null },
    { id: 'A2', size: 'S' as const, inService: true, parcelId: null, low: true },
    { id: 'B1', size: 'M' as const, inService: true, parcelId: null, low: true },
  ];
  it('accessible: low ones first (smallest of them first), then the rest; otherwise unchanged', () => {
    expect(rankFree(compartments, 'S', true)).toEqual(['A2', 'B1', 'A1']);
    expect(rankFree(compartments, 'S')).toEqual(['A1', 'A2', 'B1']);
    expect(rankFree(compartments.map((c) => (c.low ? { ...c, parcelId: 'x' } : c)), 'S', true)).toEqual(['A1']);
  });
});

let t: TestServer;
let locker: RegisteredLocker;
beforeAll(async () => {
  t = await startTestServer();
  locker = await registerLocker(t.api, [
    { id: 'A1', size: 'S' },
    { id: 'A2', size: 'S', low: true } as { id: string; size: string },
    { id: 'A3', size: 'S' },
  ]);
});
afterAll(() => t.close());

const book = (reference: string, accessible?: boolean) =>
  t.api.post<BookingView>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference, ...(accessible === undefined ? {} : { accessible }) });

describe('POST /v1/parcels with accessible: true', () => {
  it('gets the low compartment and says so; when no low one is free it gets another and says that too', async () => {
    const first = await book('LOW-1', true);
    expect(first.compartmentId).toBe('A2');
    expect(first.lowCompartment).toBe(true);
    const second = await book('LOW-2', true);
    expect(second.compartmentId).toBe('A1');
    expect(second.lowCompartment).toBe(false);
  });

  it('a booking that does not ask says nothing about it', async () => {
    const other = await book('LOW-3');
    expect(other.compartmentId).toBe('A3');
    expect(other).not.toHaveProperty('lowCompartment');
  });

  it('a non-boolean accessible is refused with a coded error', async () => {
    await expect(t.api.post('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'LOW-4', accessible: 'yes' })).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
