import type { TestServer } from '../helpers/test-server.js';
import { book, call, type Reply } from './api-helpers.js';

export interface OccupiedLocker {
  lockerId: string;
  compartmentIds: string[];
}

/**
 * `count` lockers (never connected) of `perLocker` compartments, the first `booked` of each holding a booked parcel
 * of `carrierToken` (all of them by default).
 */
export async function lockersWithParcels(t: TestServer, carrierToken: string, count: number, perLocker: number, booked = perLocker): Promise<OccupiedLocker[]> {
  const out: OccupiedLocker[] = [];
  for (let i = 0; i < count; i++) {
    const compartmentIds = Array.from({ length: perLocker }, (_, j) => `C${j + 1}`);
    const res = await call(t, t.server.adminToken, 'POST', '/v1/lockers', {
      name: `L${i}`,
      location: { lat: 52, lon: 21 },
      compartments: compartmentIds.map((id) => ({ id, size: 'S' })),
    });
    if (res.status !== 201) throw new Error(`locker not created: ${res.status} ${JSON.stringify(res.body)}`);
    const lockerId = res.body.id as string;
    for (let j = 0; j < booked; j++) await book(t, carrierToken, lockerId, `R${i}-${j}`);
    out.push({ lockerId, compartmentIds });
  }
  return out;
}

/** A remote open over the real request pipeline. */
export function openCompartment(t: TestServer, token: string, lockerId: string, compartmentId: string, extra: Record<string, unknown> = {}): Promise<Reply> {
  return call(t, token, 'POST', `/v1/lockers/${lockerId}/commands`, { type: 'open', compartmentId, reason: 'customer on the phone', ...extra });
}
