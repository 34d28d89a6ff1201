import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { LockstepError } from '../../server/errors.js';
import { bookParcel } from '../../server/parcels/booking.js';
import { cancelParcel } from '../../server/parcels/cancel.js';
import { extendPickupWindow } from '../../server/parcels/extend.js';
import { runPickupWindows } from '../../server/parcels/expiry.js';
import { holdsCompartment } from '../../server/parcels/lifecycle.js';
import type { ParcelStatus } from '../../shared/api/parcels.js';
import { handleDeviceMessage } from '../../server/sync/device-router.js';
import { handleEventBatch } from '../../server/sync/handle-events.js';
import type { ServerContext } from '../../server/context.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Random sequences of what happens to parcels (bookings, deposits and pickups reported by the locker, cancels,
 * extensions, the locker going offline and back, compartments leaving service, time passing) run against the real
 * server code and a real SQLite file; after every step the scheduler's window rules run and the invariants hold.
 */
const MIN = 60_000;
const WINDOW_MS = 7200_000;
const EXTENSION_MS = 1800_000;
const clock = new ManualClock();
let t: TestServer;
let ctx: ServerContext;
beforeAll(async () => {
  t = await startTestServer(
    { depositWindowSec: 3600, pickupWindowSec: 7200, extensionSec: 1800, maxExtensions: 1, pickupRemindersSec: [1800], collectWindowSec: 3600 },
    clock,
  );
  ctx = t.server.ctx;
});
afterAll(() => t.close());

type Command =
  | { t: 'book' }
  | { t: 'deposit' | 'pickup' | 'collect' | 'cancel' | 'extend'; i: number }
  | { t: 'offline' | 'online' | 'report' }
  | { t: 'service'; c: number; on: boolean }
  | { t: 'time'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant({ t: 'book' as const }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constantFrom('deposit' as const, 'pickup' as const, 'collect' as const, 'cancel' as const, 'extend' as const), i: fc.nat(20) }), weight: 6 },
  { arbitrary: fc.record({ t: fc.constantFrom('offline' as const, 'online' as const, 'report' as const) }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('service' as const), c: fc.nat(2), on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: MIN, max: 4 * 3600_000 }) }), weight: 3 },
);

const COMPARTMENTS = ['A1', 'A2', 'A3'];
/** What the runs reached, over all of them: the property must have exercised every path it claims to. */
const reached = new Set<string>();

/** One locker's world in one run: what the test did, to check the server against. */
class World {
  parcels: string[] = [];
  booked = 0;
  seq = 0;
  offline = false;
  outOfService = new Set<string>();
  final = new Map<string, ParcelStatus>();
  constructor(readonly lockerId: string) {}

  async events(...events: Omit<DeviceEvent, 'seq' | 'id' | 'bootId' | 'at'>[]): Promise<void> {
    const at = clock.now();
    const batch = events.map((e) => ({ ...e, seq: ++this.seq, id: `e${this.lockerId}${this.seq}`.replaceAll('_', ''), bootId: 'boot1', at }));
    await handleEventBatch(ctx, this.lockerId, { v: PROTOCOL_VERSION, events: batch });
  }

  async status(state: 'online' | 'offline'): Promise<void> {
    await handleDeviceMessage(ctx, topics.status(this.lockerId), encode({ v: PROTOCOL_VERSION, state, bootId: 'boot1' }));
  }

  async liveGrant(parcelId: string, action: string) {
    return ctx.db.selectFrom('grants').select(['jti', 'compartment_id']).where('parcel_id', '=', parcelId).where('action', '=', action as 'pickup').where('status', '=', 'live').orderBy('exp', 'desc').executeTakeFirst();
  }

  async parcel(i: number) {
    const id = this.parcels.length ? this.parcels[i % this.parcels.length] : undefined;
    return id ? ctx.db.selectFrom('parcels').selectAll().where('id', '=', id).executeTakeFirstOrThrow() : undefined;
  }

  /** A coded refusal is an answer; anything else is a bug. */
  async expectCoded(work: () => Promise<unknown>, allowed: string[]): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof LockstepError) || !allowed.includes(err.code)) throw err;
    }
  }

  async run(c: Command): Promise<void> {
    switch (c.t) {
      case 'book':
        return this.expectCoded(async () => {
          const b = await bookParcel(ctx, { lockerId: this.lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'PROP' }, 'admin:admin');
          this.parcels.push(b.parcel.id);
          this.booked++;
        }, ['NO_FREE_COMPARTMENT']);
      case 'deposit': {
        const p = await this.parcel(c.i);
        const g = p && p.status === 'booked' && !this.offline ? await this.liveGrant(p.id, 'deposit') : undefined;
        if (!p || !g || this.outOfService.has(g.compartment_id)) return;
        return this.events(
          { type: 'code.accepted', jti: g.jti, parcelId: p.id, compartmentId: g.compartment_id, action: 'deposit', via: 'keypad' },
          { type: 'parcel.deposited', jti: g.jti, parcelId: p.id, compartmentId: g.compartment_id },
        );
      }
      case 'pickup':
      case 'collect': {
        const p = await this.parcel(c.i);
        const action = c.t === 'pickup' ? 'pickup' : 'collect';
        const g = p && p.status === (c.t === 'pickup' ? 'in_locker' : 'expired') ? await this.liveGrant(p.id, action) : undefined;
        if (!p || !g) return;
        return this.events(
          { type: 'code.accepted', jti: g.jti, parcelId: p.id, compartmentId: g.compartment_id, action, via: 'keypad' },
          { type: 'parcel.picked_up', jti: g.jti, parcelId: p.id, compartmentId: g.compartment_id },
        );
      }
      case 'cancel': {
        const p = await this.parcel(c.i);
        if (!p) return;
        return this.expectCoded(() => cancelParcel(ctx, p.id, 'admin:admin'), p.status === 'booked' ? [] : ['PARCEL_NOT_CANCELLABLE']);
      }
      case 'extend': {
        const p = await this.parcel(c.i);
        if (!p) return;
        const allowed = p.status !== 'in_locker' ? ['PARCEL_NOT_IN_LOCKER'] : p.extensions >= 1 ? ['EXTENSION_LIMIT_REACHED'] : [];
        return this.expectCoded(() => extendPickupWindow(ctx, p.id, 'admin:admin'), allowed);
      }
      case 'offline':
      case 'online':
        this.offline = c.t === 'offline';
        return this.status(c.t);
      case 'report': {
        // The locker confirms the desired state and every event it recorded: cancelled reservations are released.
        const l = await ctx.db.selectFrom('lockers').select('desired_version').where('id', '=', this.lockerId).executeTakeFirstOrThrow();
        await handleDeviceMessage(ctx, topics.stateReported(this.lockerId), encode({ v: PROTOCOL_VERSION, version: l.desired_version, lastSeq: this.seq }));
        return;
      }
      case 'service': {
        const id = COMPARTMENTS[c.c]!;
        if (c.on) this.outOfService.delete(id);
        else this.outOfService.add(id);
        await ctx.db.updateTable('compartments').set({ in_service: c.on ? 1 : 0 }).where('locker_id', '=', this.lockerId).where('id', '=', id).execute();
        return;
      }
      case 'time':
        clock.advance(c.ms);
        return;
    }
  }

  async checkInvariants(): Promise<void> {
    const parcels = await ctx.db.selectFrom('parcels').selectAll().where('locker_id', '=', this.lockerId).execute();
    const compartments = await ctx.db.selectFrom('compartments').selectAll().where('locker_id', '=', this.lockerId).execute();
    // Books balance: every booking is a parcel in exactly one of the statuses.
    const count = (s: ParcelStatus[]) => parcels.filter((p) => s.includes(p.status)).length;
    expect(parcels).toHaveLength(this.booked);
    expect(count(['booked']) + count(['in_locker', 'expired']) + count(['picked_up']) + count(['returned']) + count(['cancelled'])).toBe(this.booked);
    // A compartment holds at most one parcel; a parcel that holds one holds exactly its own.
    const holders = compartments.map((c) => c.parcel_id).filter((id): id is string => id !== null);
    expect(new Set(holders).size).toBe(holders.length);
    for (const p of parcels.filter((x) => holdsCompartment(x.status))) {
      expect(compartments.filter((c) => c.parcel_id === p.id).map((c) => c.id)).toEqual([p.compartment_id]);
    }
    for (const p of parcels) {
      // Final statuses never change.
      const seen = this.final.get(p.id);
      if (seen) expect(p.status).toBe(seen);
      if (p.status === 'picked_up' || p.status === 'returned') this.final.set(p.id, p.status);
      reached.add(p.status);
      if (p.paused_since !== null && p.status === 'in_locker') reached.add('paused');
      if (p.paused_ms > 0) reached.add('resumed');
      if (p.extensions > 0) reached.add('extended');
      if (p.status !== 'in_locker' || p.pickup_deadline === null || p.deposited_at === null) continue;
      // The window: its end is the deposit plus the window, the pauses and the extensions, nothing else…
      expect(p.pickup_deadline).toBe(p.deposited_at + WINDOW_MS + p.paused_ms + p.extensions * EXTENSION_MS);
      expect(p.extensions).toBeLessThanOrEqual(1);
      // …it stands still exactly while the locker is offline or the compartment out of service…
      expect(p.paused_since !== null).toBe(this.offline || this.outOfService.has(p.compartment_id));
      // …a running window has not ended, and the recipient's grant lasts until its end.
      if (p.paused_since === null) expect(p.pickup_deadline).toBeGreaterThan(clock.now());
      const g = await ctx.db.selectFrom('grants').select('exp').where('parcel_id', '=', p.id).where('action', '=', 'pickup').where('status', '=', 'live').orderBy('exp', 'desc').executeTakeFirst();
      if (g) expect(g.exp * 1000).toBeGreaterThanOrEqual(p.pickup_deadline);
    }
  }
}

async function play(commands: readonly Command[]): Promise<World> {
  const locker = await registerLocker(t.api, COMPARTMENTS.map((id) => ({ id, size: 'S' })));
  const world = new World(locker.id);
  await world.status('online');
  for (const c of commands) {
    await world.run(c);
    await runPickupWindows(ctx);
    await world.checkInvariants();
  }
  return world;
}

describe('parcel lifecycle under random sequences of commands', () => {
  it('a window paused while the locker is offline ends later by the offline time (the scenario spelled out)', async () => {
    const world = await play([{ t: 'book' }, { t: 'deposit', i: 0 }, { t: 'offline' }, { t: 'time', ms: 3600_000 }, { t: 'online' }]);
    const p = await world.parcel(0);
    expect(p).toMatchObject({ status: 'in_locker', paused_ms: 3600_000, paused_since: null });
  });

  it('an expired parcel is collected back (the scenario spelled out)', async () => {
    const world = await play([{ t: 'book' }, { t: 'deposit', i: 0 }, { t: 'time', ms: 3 * 3600_000 }, { t: 'collect', i: 0 }]);
    expect((await world.parcel(0))?.status).toBe('returned');
  });

  it('keeps every invariant after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 60 }), async (commands) => {
        await play(commands);
      }),
      { numRuns: 60, seed: 20260105, endOnFailure: true },
    );
    expect([...reached].sort()).toEqual(['booked', 'cancelled', 'expired', 'extended', 'in_locker', 'paused', 'picked_up', 'resumed', 'returned']);
  }, 240_000);
});
