import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookParcel, type Booking, type BookingRequest } from '../../server/parcels/booking.js';
import { bookingGroupStats } from '../../server/parcels/booking-queue.js';
import { LockstepError } from '../../server/errors.js';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import { registerLocker, type TestServer } from '../helpers/test-server.js';

/** Group commit of bookings on Postgres: a failing group, and two processes booking into the same lockers at once. */
let servers: TwoServers;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  servers = await startTwoServersOnPostgres('bookings');
  ({ a, b } = servers);
}, 60_000);

afterAll(async () => {
  await servers?.close();
});

const request = (lockerId: string, reference: string): BookingRequest => ({ lockerId, size: 'S', recipient: { email: 'r@example.com' }, reference });
const compartments = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `C${i + 1}`, size: 'S' }));

describe('Postgres: bookings in groups', () => {
  it('two servers booking groups into the same lockers at once never share a compartment, and each refusal undoes only itself', async () => {
    const lockers = [await registerLocker(a.api, compartments(6)), await registerLocker(a.api, compartments(6))];
    const [one, two] = lockers.map((l) => l.id) as [string, string];
    const before = bookingGroupStats(a.server.ctx).groups + bookingGroupStats(b.server.ctx).groups;
    // Each server books into both lockers, asked in opposite orders: its group takes them in one order, and waits.
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => bookParcel(a.server.ctx, request(i % 2 ? two : one, `A-${i}`), 'admin')),
      bookParcel(a.server.ctx, request('lk_nosuchlocker0000', 'A-X'), 'admin'),
      ...Array.from({ length: 8 }, (_, i) => bookParcel(b.server.ctx, request(i % 2 ? one : two, `B-${i}`), 'admin')),
    ]);
    expect(bookingGroupStats(a.server.ctx).groups + bookingGroupStats(b.server.ctx).groups).toBeGreaterThan(before);
    const booked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as LockstepError).code] : []));
    expect(booked).toHaveLength(12);
    expect(refused.sort()).toEqual(['LOCKER_NOT_FOUND', 'NO_FREE_COMPARTMENT', 'NO_FREE_COMPARTMENT', 'NO_FREE_COMPARTMENT', 'NO_FREE_COMPARTMENT']);
    const places = booked.map((x: Booking) => `${x.parcel.locker_id}/${x.parcel.compartment_id}`);
    expect(new Set(places).size).toBe(12);

    const db = a.server.ctx.db;
    const held = await db.selectFrom('compartments').select('parcel_id').where('locker_id', 'in', [one, two]).execute();
    expect(held.map((c) => c.parcel_id).sort()).toEqual(booked.map((x) => x.parcel.id).sort());
    const grants = await db.selectFrom('grants').select('parcel_id').where('locker_id', 'in', [one, two]).execute();
    expect(grants).toHaveLength(24);
    expect(new Set(grants.map((g) => g.parcel_id))).toEqual(new Set(booked.map((x) => x.parcel.id)));
  });

  it('a statement that fails inside one booking fails only that booking: the group runs again booking by booking', async () => {
    const locker = await registerLocker(a.api, compartments(4));
    const db = a.server.ctx.db;
    await sql`create function fail_one() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from parcels where id = new.parcel_id and reference = 'FAIL-ME') then raise exception 'injected failure'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger fail_one before insert on parcel_history for each row execute function fail_one()`.execute(db);
    try {
      const before = bookingGroupStats(a.server.ctx).failedGroups;
      const results = await Promise.allSettled(['OK-1', 'FAIL-ME', 'OK-2'].map((reference) => bookParcel(a.server.ctx, request(locker.id, reference), 'admin')));
      expect(bookingGroupStats(a.server.ctx).failedGroups - before).toBe(1);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const booked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.parcel.id] : []));
      expect(await db.selectFrom('parcels').select('id').where('reference', '=', 'FAIL-ME').execute()).toEqual([]);
      const grants = await db.selectFrom('grants').select('parcel_id').where('locker_id', '=', locker.id).execute();
      expect(new Set(grants.map((g) => g.parcel_id))).toEqual(new Set(booked));
      expect(grants).toHaveLength(4);
    } finally {
      await sql`drop trigger fail_one on parcel_history`.execute(db);
      await sql`drop function fail_one()`.execute(db);
    }
  });
});
