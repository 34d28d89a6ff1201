import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { book, call, createAccount, type CreatedAccount } from '../security/api-helpers.js';

let t: TestServer;
let carrier: CreatedAccount;
const clients: MqttClient[] = [];

beforeAll(async () => {
  t = await startTestServer();
  carrier = await createAccount(t, 'carrier', 'retire carrier');
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await t.close();
});

async function connect(locker: RegisteredLocker): Promise<MqttClient> {
  const c = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: await locker.device.sign(), reconnectPeriod: 0, connectTimeout: 3000 });
  clients.push(c);
  return c;
}
const retire = (id: string, token = t.server.adminToken) => call(t, token, 'POST', `/v1/lockers/${id}/retire`, { reason: 'site closed' });
const fleetIds = async () => ((await call(t, t.server.adminToken, 'GET', '/v1/fleet')).body.lockers as { id: string }[]).map((l) => l.id);
const lockerIds = async () => ((await call(t, t.server.adminToken, 'GET', '/v1/lockers')).body.items as { id: string }[]).map((l) => l.id);

describe('retiring a locker', () => {
  it('is refused with 409 LOCKER_NOT_EMPTY while it holds a booked parcel, and changes nothing', async () => {
    const locker = await registerLocker(t.api);
    const parcelId = await book(t, carrier.token, locker.id, 'RETIRE-1');
    const res = await retire(locker.id);
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('LOCKER_NOT_EMPTY');
    expect(res.body.error?.details?.parcels).toEqual([{ parcelId, status: 'booked' }]);
    const row = await t.server.ctx.db.selectFrom('lockers').select(['retired_at', 'public_key']).where('id', '=', locker.id).executeTakeFirstOrThrow();
    expect(row.retired_at).toBeNull();
    expect(row.public_key).not.toBeNull();
    expect(await fleetIds()).toContain(locker.id);
    // Once the parcel is cancelled (no parcel left), it can go.
    expect((await call(t, carrier.token, 'POST', `/v1/parcels/${parcelId}/cancel`)).status).toBe(200);
    expect((await retire(locker.id)).status).toBe(200);
  });

  it('an empty locker: its grants revoked, its connection closed, MQTT sign-in refused, hidden from the fleet, kept by id and in the audit log', async () => {
    const locker = await registerLocker(t.api);
    const conn = await connect(locker);
    expect(conn.connected).toBe(true);
    // A parcel that came and went leaves a live grant behind (a pickup grant of a cancelled booking is revoked, so make one live by hand).
    const parcelId = await book(t, carrier.token, locker.id, 'RETIRE-2');
    expect((await call(t, carrier.token, 'POST', `/v1/parcels/${parcelId}/cancel`)).status).toBe(200);
    await t.server.ctx.db.updateTable('grants').set({ status: 'live' }).where('parcel_id', '=', parcelId).execute();

    const res = await retire(locker.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lockerId: locker.id, grantsRevoked: 2 });
    expect(await t.server.ctx.db.selectFrom('grants').select('status').where('locker_id', '=', locker.id).where('status', '=', 'live').execute()).toEqual([]);

    await expect.poll(() => conn.connected, { message: 'the retired locker to be disconnected' }).toBe(false);
    await expect(connect(locker)).rejects.toThrow();

    expect(await fleetIds()).not.toContain(locker.id);
    expect(await lockerIds()).not.toContain(locker.id);
    const byId = await call(t, t.server.adminToken, 'GET', `/v1/lockers/${locker.id}`);
    expect(byId.status).toBe(200);
    expect((await call(t, carrier.token, 'GET', `/v1/parcels/${parcelId}`)).status).toBe(200);
    const audit = (await call(t, t.server.adminToken, 'GET', `/v1/audit?action=locker.retire&lockerId=${locker.id}`)).body.items as { reason: string; actor: string }[];
    expect(audit).toMatchObject([{ reason: 'site closed', actor: 'admin:admin' }]);
  });

  it('a retired locker takes no booking, no re-enrolment and no second retirement', async () => {
    const locker = await registerLocker(t.api);
    expect((await retire(locker.id)).status).toBe(200);
    const booking = await call(t, carrier.token, 'POST', '/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'RETIRE-3' });
    expect(booking.status).toBe(409);
    expect(booking.body.error?.code).toBe('NO_FREE_COMPARTMENT');
    const reEnrol = await call(t, t.server.adminToken, 'POST', `/v1/lockers/${locker.id}/re-enrol`);
    expect(reEnrol.body.error?.code).toBe('LOCKER_RETIRED');
    const again = await retire(locker.id);
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('LOCKER_RETIRED');
  });

  it('only an admin retires; an unknown locker is 404', async () => {
    const operator = await createAccount(t, 'operator', 'retire operator');
    const locker = await registerLocker(t.api);
    expect((await retire(locker.id, operator.token)).status).toBe(403);
    expect((await retire('lk_nope')).body.error?.code).toBe('LOCKER_NOT_FOUND');
    expect(await fleetIds()).toContain(locker.id);
  });
});
