import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDeviceMessage } from '../../server/sync/device-router.js';
import { recordLockerStatus } from '../../server/sync/locker-reports.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Status messages written as a group (server/sync/locker-reports.ts; one statement on Postgres,
 * status-group-pg.ts): each locker's last status of the group stands; the statement keeps the outage of a locker
 * holding no parcel itself (no presence transaction for it) and says whether a command for it is pending (an
 * online status looks for commands to send again only then).
 */
let pgServers: TwoServers;
let sqlite: TestServer;

beforeAll(async () => {
  [pgServers, sqlite] = await Promise.all([startTwoServersOnPostgres('statuses'), startTestServer()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([pgServers?.close(), sqlite?.close()]);
});

const status = (state: 'online' | 'offline', bootId = 'boot-1') => Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, state, bootId }));

describe.each([
  ['SQLite', () => sqlite],
  ['Postgres', () => pgServers.a],
])('statuses in groups on %s', (_name, server) => {
  it('writes the last status of each locker in the group; the earlier ones say they were superseded', async () => {
    const t = server();
    const [x, y] = await Promise.all([1, 2].map(() => registerLocker(t.api, [{ id: 'A1', size: 'S' }])));
    const before = t.server.ctx.writers.statuses.stats();
    // Same turn: one group. x goes offline and comes back within it; y comes online.
    const written = await Promise.all([
      recordLockerStatus(t.server.ctx, { lockerId: x!.id, online: false, bootId: 'b1' }),
      recordLockerStatus(t.server.ctx, { lockerId: y!.id, online: true, bootId: 'b2' }),
      recordLockerStatus(t.server.ctx, { lockerId: x!.id, online: true, bootId: 'b3' }),
      recordLockerStatus(t.server.ctx, { lockerId: 'no-such-locker', online: true, bootId: 'b4' }),
    ]);
    expect(t.server.ctx.writers.statuses.stats().groups - before.groups).toBe(1);
    expect(written).toEqual([
      { unavailable: false, holdsParcels: false, pendingCommands: false, superseded: true },
      { unavailable: false, holdsParcels: false, pendingCommands: false, superseded: false },
      { unavailable: false, holdsParcels: false, pendingCommands: false, superseded: false },
      undefined,
    ]);
    const rows = await t.server.ctx.db.selectFrom('lockers').select(['id', 'online', 'boot_id']).where('id', 'in', [x!.id, y!.id]).orderBy('id').execute();
    expect(rows.map((r) => [r.id, Number(r.online), r.boot_id])).toEqual(
      [
        [x!.id, 1, 'b3'],
        [y!.id, 1, 'b2'],
      ].sort((p, q) => (String(p[0]) < String(q[0]) ? -1 : 1)),
    );
  });

  it('keeps the outage of a locker holding no parcel in the status statement, and leaves one holding a parcel to the presence hook', async () => {
    const t = server();
    const [empty, holding] = await Promise.all([1, 2].map(() => registerLocker(t.api, [{ id: 'A1', size: 'S' }])));
    await t.api.post('/v1/parcels', { lockerId: holding!.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'STATUS-1' });
    const written = await Promise.all([
      recordLockerStatus(t.server.ctx, { lockerId: empty!.id, online: true, bootId: 'b1' }),
      recordLockerStatus(t.server.ctx, { lockerId: holding!.id, online: true, bootId: 'b1' }),
    ]);
    expect(written.map((w) => w?.holdsParcels)).toEqual([false, true]);
    expect(written.map((w) => w?.pendingCommands)).toEqual([false, false]);

    const outage = async (id: string) =>
      t.server.ctx.db.selectFrom('lockers').select(['unavailable_since', 'last_outage_from', 'last_outage_to']).where('id', '=', id).executeTakeFirstOrThrow();
    const before = t.server.ctx.clock.now();
    for (const l of [empty!, holding!]) await handleDeviceMessage(t.server.ctx, topics.status(l.id), status('offline'));
    // Both count as unavailable from their offline status: the empty one's by the statement, the other's by the hook.
    for (const l of [empty!, holding!]) expect(Number((await outage(l.id)).unavailable_since)).toBeGreaterThanOrEqual(before);
    const emptySince = Number((await outage(empty!.id)).unavailable_since);
    // Another offline status (a will after a broken reconnect) does not move the outage's start.
    await handleDeviceMessage(t.server.ctx, topics.status(empty!.id), status('offline'));
    expect(Number((await outage(empty!.id)).unavailable_since)).toBe(emptySince);

    // A command sent while it is away stays pending: the online status says so (and only then is it sent again).
    await t.api.post(`/v1/lockers/${empty!.id}/commands`, { type: 'set_service', compartmentId: 'A1', inService: false, reason: 'status test' });
    const back = await recordLockerStatus(t.server.ctx, { lockerId: empty!.id, online: true, bootId: 'b2' });
    expect(back).toMatchObject({ pendingCommands: true, unavailable: false, holdsParcels: false });
    // Back online: its outage closed by the same statement, kept to credit a deposit made during it.
    const closed = await outage(empty!.id);
    expect(closed.unavailable_since).toBeNull();
    expect(Number(closed.last_outage_from)).toBe(emptySince);
    expect(Number(closed.last_outage_to)).toBeGreaterThanOrEqual(emptySince);
    await handleDeviceMessage(t.server.ctx, topics.status(holding!.id), status('online'));
    expect((await outage(holding!.id)).unavailable_since).toBeNull();
    expect((await outage(holding!.id)).last_outage_from).not.toBeNull();
  });

  it('credits the outage of a locker that held no parcel when it went offline and has one booked when it is back', async () => {
    const t = server();
    const l = await registerLocker(t.api, [{ id: 'A1', size: 'S' }]);
    await handleDeviceMessage(t.server.ctx, topics.status(l!.id), status('online'));
    const before = t.server.ctx.clock.now();
    await handleDeviceMessage(t.server.ctx, topics.status(l!.id), status('offline'));
    // Booked while it is away (the courier's code works offline) and back within the scheduler's second: the
    // outage was recorded by the offline status itself, not left to the scheduler.
    await t.api.post('/v1/parcels', { lockerId: l!.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'STATUS-2' });
    await handleDeviceMessage(t.server.ctx, topics.status(l!.id), status('online'));
    const row = await t.server.ctx.db.selectFrom('lockers').select(['unavailable_since', 'last_outage_from', 'last_outage_to']).where('id', '=', l!.id).executeTakeFirstOrThrow();
    expect(row.unavailable_since).toBeNull();
    expect(Number(row.last_outage_from)).toBeGreaterThanOrEqual(before);
    expect(Number(row.last_outage_to)).toBeGreaterThanOrEqual(Number(row.last_outage_from));
  });
  it('the scheduler closes the outage of an idle locker whose online status was lost, and pauses a window opened while its locker was marked unavailable', async () => {
    const t = server();
    const [idle, holding] = await Promise.all([1, 2].map(() => registerLocker(t.api, [{ id: 'A1', size: 'S' }])));
    await handleDeviceMessage(t.server.ctx, topics.status(idle!.id), status('offline'));
    // Back by a heartbeat only (its online status refused as overloaded in a storm): online, outage still open.
    await t.server.ctx.db.updateTable('lockers').set({ online: 1 }).where('id', '=', idle!.id).execute();
    await t.server.scheduler.runOnce();
    const row = await t.server.ctx.db.selectFrom('lockers').select(['unavailable_since', 'last_outage_from', 'last_outage_to']).where('id', '=', idle!.id).executeTakeFirstOrThrow();
    expect(row.unavailable_since).toBeNull();
    expect(Number(row.last_outage_to)).toBeGreaterThanOrEqual(Number(row.last_outage_from));
    expect(row.last_outage_from).not.toBeNull();

    // A parcel whose window runs in a locker marked unavailable (the status statement saw no parcel there: a race
    // with the deposit on Postgres' statement snapshot) stands still from the outage's start.
    const booked = await t.api.post<{ id: string }>('/v1/parcels', { lockerId: holding!.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'STATUS-3' });
    const since = t.server.ctx.clock.now() - 60_000;
    await t.server.ctx.db.updateTable('lockers').set({ online: 0, unavailable_since: since }).where('id', '=', holding!.id).execute();
    await t.server.ctx.db
      .updateTable('parcels')
      .set({ status: 'in_locker', deposited_at: since - 60_000, pickup_deadline: since + 3_600_000 })
      .where('id', '=', booked.id)
      .execute();
    await t.server.scheduler.runOnce();
    const parcel = await t.server.ctx.db.selectFrom('parcels').select(['paused_since', 'pause_reason']).where('id', '=', booked.id).executeTakeFirstOrThrow();
    expect([Number(parcel.paused_since), parcel.pause_reason]).toEqual([since, 'locker_offline']);
  });
});
