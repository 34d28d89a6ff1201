import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDeviceMessage } from '../../server/sync/device-router.js';
import { recordLockerStatus } from '../../server/sync/locker-reports.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Status messages written as a group (server/sync/locker-reports.ts; one statement on Postgres,
 * status-group-pg.ts): each locker's last status of the group stands, and the statement says whether the locker
 * holds parcels (an offline status of a locker holding none opens no presence transaction) and whether a command
 * for it is pending (an online status looks for commands to send again only then).
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

  it('an offline status records the outage of a locker holding a parcel, and opens no presence transaction for one holding none', async () => {
    const t = server();
    const [empty, holding] = await Promise.all([1, 2].map(() => registerLocker(t.api, [{ id: 'A1', size: 'S' }])));
    await t.api.post('/v1/parcels', { lockerId: holding!.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'STATUS-1' });
    const written = await Promise.all([
      recordLockerStatus(t.server.ctx, { lockerId: empty!.id, online: true, bootId: 'b1' }),
      recordLockerStatus(t.server.ctx, { lockerId: holding!.id, online: true, bootId: 'b1' }),
    ]);
    expect(written.map((w) => w?.holdsParcels)).toEqual([false, true]);
    expect(written.map((w) => w?.pendingCommands)).toEqual([false, false]);

    for (const l of [empty!, holding!]) await handleDeviceMessage(t.server.ctx, topics.status(l.id), status('offline'));
    const since = async (id: string) =>
      (await t.server.ctx.db.selectFrom('lockers').select('unavailable_since').where('id', '=', id).executeTakeFirstOrThrow()).unavailable_since;
    expect(await since(empty!.id)).toBeNull();
    expect(await since(holding!.id)).not.toBeNull();
    // A command sent while it is away stays pending: the online status says so (and only then is it sent again).
    await t.api.post(`/v1/lockers/${empty!.id}/commands`, { type: 'set_service', compartmentId: 'A1', inService: false, reason: 'status test' });
    const back = await recordLockerStatus(t.server.ctx, { lockerId: empty!.id, online: true, bootId: 'b2' });
    expect(back?.pendingCommands).toBe(true);
    // Back online: the holding locker's outage is closed again.
    await handleDeviceMessage(t.server.ctx, topics.status(holding!.id), status('online'));
    expect(await since(holding!.id)).toBeNull();
  });
});
