import type { Db } from '../../server/store/database.js';

export interface BulkLocker {
  id: string;
  name: string;
  online: boolean;
  lastSeenAt: number | null;
  lat: number;
  lon: number;
}

/**
 * Inserts `n` lockers with four compartments each straight through the store (one transaction, multi-row inserts):
 * a fleet of 10,000 in a second or two instead of 10,000 registrations over HTTP. The rollup triggers of
 * migration 017 run as for any other insert. Lockers are deterministic: `lk_bulk<i>`, names `Bulk <i>` in a
 * shuffled order, every third offline, spread over Poland.
 */
export async function insertFleet(db: Db, n: number, now: number): Promise<BulkLocker[]> {
  const lockers: BulkLocker[] = Array.from({ length: n }, (_, i) => {
    const k = (i * 7919) % n;
    return {
      id: `lk_bulk${String(i).padStart(6, '0')}`,
      name: `Bulk ${String(k).padStart(6, '0')}`,
      online: i % 3 !== 0,
      lastSeenAt: i % 10 === 0 ? null : now - ((i * 37) % 86_400) * 1000,
      lat: 49.2 + ((i * 13) % 500) / 100,
      lon: 14.2 + ((i * 29) % 900) / 100,
    };
  });
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < lockers.length; i += 100) {
      const chunk = lockers.slice(i, i + 100);
      await trx
        .insertInto('lockers')
        .values(chunk.map((l) => ({ id: l.id, name: l.name, lat: l.lat, lon: l.lon, created_at: now, secret_hash: 'x', online: l.online ? 1 : 0, last_seen_at: l.lastSeenAt, desired_version: 0, reported_version: 0, reported_seq: 0 })))
        .execute();
      await trx
        .insertInto('compartments')
        .values(chunk.flatMap((l) => ['A1', 'A2', 'B1', 'C1'].map((id, j) => ({ locker_id: l.id, id, size: (['S', 'S', 'M', 'L'] as const)[j]!, in_service: 1 }))))
        .execute();
    }
  });
  return lockers;
}
