import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ParcelView } from '../../shared/api/parcels.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';

let pg: TestPostgres;
let broker: TestMosquitto;
let t: TestServer;
let locker: BrokerLocker;

beforeAll(async () => {
  [pg, broker] = await Promise.all([startPostgres(), startMosquitto()]);
  t = await startTestServer({
    databaseUrl: await pg.createDatabase(),
    mqttUrl: broker.url,
    mqttUsername: broker.admin.username,
    mqttPassword: broker.admin.password,
    instanceId: 'mosquitto-test',
  });
  locker = await startBrokerLocker(t.api, t.dir, [
    { id: 'A1', size: 'S' },
    { id: 'A2', size: 'S' },
  ]);
  await vi.waitFor(() => expect(locker.agent.ready, 'the locker configuration over Mosquitto').toBe(true), { timeout: 15_000, interval: 10 });
}, 60_000);

afterAll(async () => {
  await locker?.stop();
  await t?.close();
  await broker?.stop();
  await pg?.stop();
});

const parcel = (id: string) => t.api.get<ParcelView>(`/v1/parcels/${id}`);

function useDoor(id: string) {
  expect(locker.hardware.openDoor(id)).toBe(true);
  locker.hardware.closeDoor(id);
}

/** Connects as a device would; resolves with the client or the refusal. */
function connectAs(username: string, password: string, clientId = username): Promise<mqtt.MqttClient | Error> {
  return mqtt.connectAsync(broker.url, { username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 }).catch((err: Error) => err);
}

describe('Postgres + Mosquitto (dynamic security): the parcel cycle', () => {
  it('gives the locker its own broker account at enrolment, then books, deposits and picks up over Mosquitto', async () => {
    expect(locker.brokerUsername).toBe(locker.id);
    const booked = await t.api.post<ParcelView & { dropoff: { pin: string } }>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'MQ-1' });
    await expect.poll(() => locker.store.grantCount(), { message: 'both grants to reach the locker through Mosquitto' }).toBe(2);
    expect(await locker.agent.enterCode(booked.dropoff.pin, 'keypad')).toEqual({ opened: booked.compartmentId });
    useDoor(booked.compartmentId);
    await expect.poll(async () => (await parcel(booked.id)).status, { message: 'the deposit to reach the server' }).toBe('in_locker');
    const code = await awaitPickupCode(t.api, booked.id, 10_000);
    expect(code).not.toBeNull();
    await expect.poll(async () => {
      const outcome = await locker.agent.enterCode(code!.pin, 'keypad');
      return 'opened' in outcome && outcome.opened === booked.compartmentId;
    }, { message: 'the pickup code to open the door' }).toBe(true);
    useDoor(booked.compartmentId);
    await expect.poll(async () => (await parcel(booked.id)).status, { message: 'the pickup to reach the server' }).toBe('picked_up');
    await expect.poll(() => locker.store.outboxSize(), { message: 'every event acknowledged' }).toBe(0);
    const view = await t.api.get<{ events: { received: number }; compartments: { id: string; parcelId: string | null }[] }>(`/v1/lockers/${locker.id}`);
    expect(view.compartments.find((c) => c.id === booked.compartmentId)?.parcelId).toBeNull();
  });

  it('keeps each locker to its own topics and refuses unknown credentials', async () => {
    expect(await connectAs(locker.id, 'not-the-password', `${locker.id}-x`)).toBeInstanceOf(Error);
    expect(await connectAs('L-nobody', 'whatever')).toBeInstanceOf(Error);
    const other = await startBrokerLocker(t.api, t.dir, [{ id: 'A1', size: 'S' }]);
    try {
      await expect.poll(() => other.agent.ready, { message: 'the second locker' }).toBe(true);
      // The second locker's account may not read the first locker's grants nor post its events.
      const password = await other.store.getMeta('broker_account').then((s) => (JSON.parse(s ?? '{}') as { password: string }).password);
      await other.agent.stop();
      const client = await connectAs(other.id, password);
      if (client instanceof Error) throw client;
      await expect(client.subscribeAsync(`lockers/${locker.id}/state`, { qos: 1 })).rejects.toThrow();
      await client.endAsync();
    } finally {
      await other.store.close();
    }
  });

  it('re-enrolment deletes the old controller\'s account: its connection closes and its password stops working', async () => {
    const second = await startBrokerLocker(t.api, t.dir, [{ id: 'A1', size: 'S' }]);
    await expect.poll(() => second.agent.ready, { message: 'the locker to connect' }).toBe(true);
    const oldPassword = await second.store.getMeta('broker_account').then((s) => (JSON.parse(s ?? '{}') as { password: string }).password);
    await second.agent.stop();
    const old = await connectAs(second.id, oldPassword);
    if (old instanceof Error) throw old;
    const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
    await t.api.post(`/v1/lockers/${second.id}/re-enrol`, {});
    await closed;
    old.end(true);
    expect(await connectAs(second.id, oldPassword)).toBeInstanceOf(Error);
    await second.store.close();
  });
});
