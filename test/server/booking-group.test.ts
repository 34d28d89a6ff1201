import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { GrantVerifier } from '../../shared/grants.js';
import { bookParcel, type Booking, type BookingRequest } from '../../server/parcels/booking.js';
import { bookingGroupStats } from '../../server/parcels/booking-queue.js';
import { LockstepError } from '../../server/errors.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { lockerPinKey } from '../../server/codes/pins.js';
import { pinHash } from '../../shared/pin.js';

const SMALL = ['A1', 'A2', 'A3', 'A4', 'A5'].map((id) => ({ id, size: 'S' }));
const METRICS_TOKEN = 'booking-group-metrics-token-0123456789';

/** Writes the server ran so far: lockstep_db_query_duration_seconds_count of inserts, updates and raw SQL. */
async function writesRun(t: TestServer): Promise<number> {
  const res = await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => /^lockstep_db_query_duration_seconds_count\{operation="(insert|update|raw)"/.test(l))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function codeOf(r: PromiseSettledResult<Booking>): string {
  if (r.status === 'fulfilled') return 'booked';
  return r.reason instanceof LockstepError ? r.reason.code : String(r.reason);
}

describe('bookings that arrive together share one transaction', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ metricsToken: METRICS_TOKEN });
  });
  afterEach(async () => {
    await t.close();
  });

  const request = (lockerId: string, o: Partial<BookingRequest> = {}): BookingRequest => ({
    lockerId,
    size: 'S',
    recipient: { email: 'r@example.com' },
    reference: 'ORDER-1',
    ...o,
  });

  it('gives each concurrent booking its own compartment; refused ones in the group undo nothing else', async () => {
    const locker = await registerLocker(t.api, SMALL);
    const ctx = t.server.ctx;
    const before = bookingGroupStats(ctx);
    // Called in one turn: all ten join the same group.
    const results = await Promise.allSettled([
      ...Array.from({ length: 7 }, (_, i) => bookParcel(ctx, request(locker.id, { reference: `ORDER-${i}` }), 'admin')),
      bookParcel(ctx, request(locker.id, { size: 'XL' }), 'admin'),
      bookParcel(ctx, request('lk_nosuchlocker0000'), 'admin'),
      bookParcel(ctx, request(locker.id, { reference: 'ORDER-LATE' }), 'admin'),
    ]);
    const after = bookingGroupStats(ctx);
    expect(after.groups - before.groups).toBe(1);
    expect(after.bookings - before.bookings).toBe(10);

    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'booked')).toHaveLength(5);
    expect(codes.filter((c) => c === 'NO_FREE_COMPARTMENT')).toHaveLength(3);
    expect(codes[7]).toBe('SIZE_NOT_OFFERED');
    expect(codes[8]).toBe('LOCKER_NOT_FOUND');
    const booked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(new Set(booked.map((b) => b.parcel.compartment_id))).toEqual(new Set(SMALL.map((c) => c.id)));

    // What committed is exactly the five bookings: parcels, two grants each, one desired-state version each.
    const db = ctx.db;
    const compartments = await db.selectFrom('compartments').select(['id', 'parcel_id']).where('locker_id', '=', locker.id).execute();
    expect(compartments.map((c) => c.parcel_id).sort()).toEqual(booked.map((b) => b.parcel.id).sort());
    const grants = await db.selectFrom('grants').select(['parcel_id', 'action']).where('locker_id', '=', locker.id).execute();
    expect(grants).toHaveLength(10);
    expect(new Set(grants.map((g) => g.parcel_id))).toEqual(new Set(booked.map((b) => b.parcel.id)));
    const versions = await db.selectFrom('desired_changes').select('version').where('locker_id', '=', locker.id).orderBy('version').execute();
    const { desired_version } = await db.selectFrom('lockers').select('desired_version').where('id', '=', locker.id).executeTakeFirstOrThrow();
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 5 }, (_, i) => desired_version - 4 + i));

    // The grants signed on this thread verify as a locker verifies them (jose).
    const verifier = new GrantVerifier(ctx.keys.publicKeys());
    for (const b of booked) {
      const v = await verifier.verify(b.dropoff.qr, { lockerId: locker.id, now: ctx.clock.now(), clockToleranceSec: 60, action: 'deposit' });
      expect(v).toMatchObject({ ok: true, claims: { sub: b.parcel.id, cmp: b.parcel.compartment_id } });
    }
  });

  it('a statement that fails inside one booking leaves nothing of it: its group runs again booking by booking, and the rest commits', async () => {
    const locker = await registerLocker(t.api, SMALL);
    const ctx = t.server.ctx;
    // A failure injected when the group writes the booking's history row (after its grants): the group's
    // transaction rolls back, and each booking runs again in its own.
    await sql`create trigger fail_one before insert on parcel_history
      when new.parcel_id in (select id from parcels where reference = 'FAIL-ME')
      begin select raise(abort, 'injected failure'); end`.execute(ctx.db);
    const before = bookingGroupStats(ctx);
    const results = await Promise.allSettled(
      ['ORDER-1', 'FAIL-ME', 'ORDER-2', 'ORDER-3'].map((reference) => bookParcel(ctx, request(locker.id, { reference }), 'admin')),
    );
    expect(bookingGroupStats(ctx).failedGroups - before.failedGroups).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('injected failure');

    const booked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.parcel.id] : []));
    const db = ctx.db;
    expect(await db.selectFrom('parcels').select('id').where('reference', '=', 'FAIL-ME').execute()).toEqual([]);
    const grants = await db.selectFrom('grants').select('parcel_id').where('locker_id', '=', locker.id).execute();
    expect(grants).toHaveLength(6);
    expect(new Set(grants.map((g) => g.parcel_id))).toEqual(new Set(booked));
    const held = await db.selectFrom('compartments').select('parcel_id').where('locker_id', '=', locker.id).where('parcel_id', 'is not', null).execute();
    expect(held.map((c) => c.parcel_id).sort()).toEqual([...booked].sort());
    expect(await db.selectFrom('desired_changes').select('version').where('locker_id', '=', locker.id).execute()).toHaveLength(3);

    // Once the cause is gone the same booking goes through, into a compartment the failed one did not keep.
    await sql`drop trigger fail_one`.execute(ctx.db);
    const retried = await bookParcel(ctx, request(locker.id, { reference: 'FAIL-ME' }), 'admin');
    expect(held.map((c) => c.parcel_id)).not.toContain(retried.parcel.id);
  });

  it('a group writes its bookings with a fixed number of statements, not a few per booking', async () => {
    const lockers = [await registerLocker(t.api, SMALL), await registerLocker(t.api, SMALL), await registerLocker(t.api, SMALL)];
    const ctx = t.server.ctx;
    const before = bookingGroupStats(ctx);
    const ran = await writesRun(t);
    const booked = await Promise.all(Array.from({ length: 12 }, (_, i) => bookParcel(ctx, request((lockers[i % 3] as { id: string }).id, { reference: `N-${i}` }), 'admin')));
    const writes = (await writesRun(t)) - ran;
    expect(bookingGroupStats(ctx).groups - before.groups).toBe(1);
    expect(new Set(booked.map((b) => `${b.parcel.locker_id}/${b.parcel.compartment_id}`)).size).toBe(12);
    // The group's writes: one conditional update reserving every pick, one taking the versions, one insert per table
    // (parcels, grants, history, desired changes): 6, whatever the group's size. Writing booking by booking was 6 per
    // booking (72 here). Reads are not counted: the server's own scheduler reads meanwhile, more on a busy machine.
    expect(writes).toBeGreaterThanOrEqual(6);
    expect(writes).toBeLessThanOrEqual(10);
    // Each locker's four bookings took four consecutive versions, one per booking, each holding that booking's grants.
    for (const locker of lockers) {
      const changes = await ctx.db.selectFrom('desired_changes').select(['version', 'changes']).where('locker_id', '=', locker.id).orderBy('version').execute();
      const mine = booked.filter((b) => b.parcel.locker_id === locker.id);
      expect(changes).toHaveLength(4);
      expect(changes.map((c) => c.version)).toEqual(Array.from({ length: 4 }, (_, i) => (changes[0]?.version ?? 0) + i));
      expect(changes.map((c) => (JSON.parse(c.changes) as { token: string }[])[0]?.token)).toEqual(mine.map((b) => b.dropoff.qr));
    }
  });

  it('a pick the group cannot reserve after all is passed over, by that booking and the ones after it', async () => {
    const locker = await registerLocker(t.api, SMALL);
    const ctx = t.server.ctx;
    // A1 looks free when read, but its reservation changes nothing (as when another writer took it in between).
    await sql`create trigger hold_a1 before update of parcel_id on compartments
      when old.locker_id = ${sql.lit(locker.id)} and old.id = 'A1' and new.parcel_id is not null
      begin select raise(ignore); end`.execute(ctx.db);
    try {
      // Four bookings for five compartments: the first picks A1, loses it, and takes A5 (the one left) next round.
      const booked = await Promise.all(Array.from({ length: 4 }, (_, i) => bookParcel(ctx, request(locker.id, { reference: `P-${i}` }), 'admin')));
      expect(booked.map((b) => b.parcel.compartment_id).sort()).toEqual(['A2', 'A3', 'A4', 'A5']);
      const a1 = await ctx.db.selectFrom('compartments').select('parcel_id').where('locker_id', '=', locker.id).where('id', '=', 'A1').executeTakeFirstOrThrow();
      expect(a1.parcel_id).toBeNull();
      // A fifth finds nothing it can reserve: refused as a full locker, with nothing of it written.
      await expect(bookParcel(ctx, request(locker.id, { reference: 'P-5' }), 'admin')).rejects.toMatchObject({ code: 'NO_FREE_COMPARTMENT', details: { size: 'S' } });
      expect(await ctx.db.selectFrom('parcels').select('id').where('reference', '=', 'P-5').execute()).toEqual([]);
    } finally {
      await sql`drop trigger hold_a1`.execute(ctx.db);
    }
  });

  it('a compartment with a remote open pending is not offered at all', async () => {
    const locker = await registerLocker(t.api, SMALL);
    const ctx = t.server.ctx;
    const now = ctx.clock.now();
    for (const id of ['A1', 'A2', 'A3']) {
      await ctx.db
        .insertInto('commands')
        .values({ id: `cmd_pending_${id}`, locker_id: locker.id, type: 'open', compartment_id: id, in_service: null, reason: 'test', requested_by: 'admin', state: 'pending', result: null, created_at: now, expires_at: now + 60_000, updated_at: now })
        .execute();
    }
    const booked = await Promise.all(Array.from({ length: 2 }, (_, i) => bookParcel(ctx, request(locker.id, { reference: `Q-${i}` }), 'admin')));
    expect(booked.map((b) => b.parcel.compartment_id).sort()).toEqual(['A4', 'A5']);
    await expect(bookParcel(ctx, request(locker.id, { reference: 'Q-2' }), 'admin')).rejects.toMatchObject({ code: 'NO_FREE_COMPARTMENT' });
  });
});

describe('a booking group with a locker that has no PIN left', () => {
  let t: TestServer;
  beforeEach(async () => {
    // Two symbols, six places: 64 PINs per locker.
    t = await startTestServer({ pinAlphabet: '01', pinLength: 6 });
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses only that locker\'s bookings, undoes their reservations, and commits the rest of the group', async () => {
    const ctx = t.server.ctx;
    const [full, fine] = [await registerLocker(t.api, SMALL), await registerLocker(t.api, SMALL)];
    // Every one of the 64 PINs is live at `full` (grants of one earlier parcel, far from expiring).
    const now = ctx.clock.now();
    const holder = (await bookParcel(ctx, { lockerId: full.id, size: 'S', recipient: { email: 'r@example.com' }, reference: 'HOLDER' }, 'admin')).parcel;
    const key = lockerPinKey(ctx.pinSecret, full.id);
    const pins = Array.from({ length: 64 }, (_, n) => n.toString(2).padStart(6, '0'));
    await ctx.db.deleteFrom('grants').where('parcel_id', '=', holder.id).execute();
    await ctx.db
      .insertInto('grants')
      .values(
        pins.map((pin, n) => ({
          jti: `jti_all_pins_${n}`,
          parcel_id: holder.id,
          locker_id: full.id,
          compartment_id: holder.compartment_id as string,
          action: 'pickup' as const,
          pin_hash: pinHash(key, pin),
          token: 'x',
          kid: 'k',
          nbf: Math.floor(now / 1000),
          exp: Math.floor(now / 1000) + 86_400,
          status: 'live' as const,
          used_at: null,
          uses: 0,
          pin_jti: null,
        })),
      )
      .execute();

    const before = bookingGroupStats(ctx);
    const results = await Promise.allSettled([full.id, fine.id, full.id, fine.id].map((lockerId, i) => bookParcel(ctx, request(lockerId, { reference: `R-${i}` }), 'admin')));
    expect(bookingGroupStats(ctx).groups - before.groups).toBe(1);
    expect(bookingGroupStats(ctx).failedGroups - before.failedGroups).toBe(0);
    expect(results.map(codeOf)).toEqual(['CODE_SPACE_EXHAUSTED', 'booked', 'CODE_SPACE_EXHAUSTED', 'booked']);
    // Nothing of the refused ones stays: only the holder's compartment is taken at `full`; two at `fine`.
    const held = await ctx.db.selectFrom('compartments').select(['locker_id', 'parcel_id']).where('parcel_id', 'is not', null).execute();
    expect(held.filter((c) => c.locker_id === full.id).map((c) => c.parcel_id)).toEqual([holder.id]);
    expect(held.filter((c) => c.locker_id === fine.id)).toHaveLength(2);
    expect(await ctx.db.selectFrom('parcels').select('id').where('reference', 'in', ['R-0', 'R-2']).execute()).toEqual([]);
  });

  function request(lockerId: string, o: Partial<BookingRequest> = {}): BookingRequest {
    return { lockerId, size: 'S', recipient: { email: 'r@example.com' }, reference: 'ORDER-1', ...o };
  }
});
