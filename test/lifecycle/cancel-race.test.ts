import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { cancelInTransaction } from '../../server/parcels/cancel.js';
import { inUnitOfWork } from '../../server/desired-state/unit-of-work.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

/**
 * A cancellation (the API, or the deposit window's expiry) that read the parcel before a deposit committed must not
 * overwrite it: on Postgres another server process can commit the locker's deposit between the read and the write.
 * The test replays that order on one process: the parcel row is read, the deposit event commits, then the
 * cancellation runs with the row it read.
 */
let t: TestServer;
let locker: RegisteredLocker;
let client: MqttClient;
beforeAll(async () => {
  t = await startTestServer();
  locker = await registerLocker(t.api);
  client = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: locker.device.password, protocolVersion: 4, reconnectPeriod: 0 });
});
afterAll(async () => {
  await client.endAsync(true);
  await t.close();
});

describe('a cancellation that lost the race to a deposit', () => {
  it('changes nothing and says PARCEL_NOT_CANCELLABLE: the parcel stays in the locker with its codes', async () => {
    const p = await t.api.post<{ id: string; compartmentId: string }>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'RACE-1' });
    const stale = await t.server.ctx.db.selectFrom('parcels').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
    const event = { seq: 1, id: 'ev1', bootId: 'b1', at: Date.now(), type: 'parcel.deposited', compartmentId: p.compartmentId, parcelId: p.id } as DeviceEvent;
    await client.publishAsync(topics.events(locker.id), encode({ v: 1, events: [event] }), { qos: 1 });
    await expect.poll(async () => (await t.api.get<{ status: string }>(`/v1/parcels/${p.id}`)).status).toBe('in_locker');
    const cancel = inUnitOfWork(t.server.ctx, (uow) => cancelInTransaction(uow, stale, Date.now(), { type: 'reservation_expired', source: 'scheduler', ref: 'test' }));
    await expect(cancel).rejects.toMatchObject({ code: 'PARCEL_NOT_CANCELLABLE' });
    const after = await t.api.get<{ status: string }>(`/v1/parcels/${p.id}`);
    expect(after.status).toBe('in_locker');
    const live = await t.server.ctx.db.selectFrom('grants').select('action').where('parcel_id', '=', p.id).where('status', '=', 'live').execute();
    expect(live.map((g) => g.action).sort()).toEqual(['deposit', 'pickup']);
    const held = (await t.api.get<LockerView>(`/v1/lockers/${locker.id}`)).compartments.find((c) => c.id === p.compartmentId);
    expect(held?.parcelId).toBe(p.id);
  });
});
