import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { sql } from 'kysely';
import { decoderFor, encode } from '../../shared/codec.js';
import { EventAckMessage, type DeviceEvent } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

const decodeAck = decoderFor(EventAckMessage);
let t: TestServer;
const clients: MqttClient[] = [];
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await t.close();
});

interface Device {
  locker: RegisteredLocker;
  client: MqttClient;
  /** Every ack the locker received, in order. */
  acks: number[][];
  /** The QoS each ack arrived with (docs/protocol.md: 0, though the device subscribes at 1). */
  ackQos: number[];
}

async function connectDevice(locker: RegisteredLocker): Promise<Device> {
  const client = await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: locker.device.password, protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(client);
  const acks: number[][] = [];
  const ackQos: number[] = [];
  client.on('message', (topic, payload, packet) => {
    if (topic !== topics.eventsAck(locker.id)) return;
    const m = decodeAck(payload);
    if (m.ok) acks.push(m.value.seqs);
    ackQos.push(packet.qos);
  });
  await client.subscribeAsync(topics.eventsAck(locker.id), { qos: 1 });
  return { locker, client, acks, ackQos };
}

function events(from: number, n: number, id = (seq: number) => `e${seq}`): DeviceEvent[] {
  return Array.from({ length: n }, (_, i) => ({ seq: from + i, id: id(from + i), bootId: 'boot1', at: Date.now(), type: 'door.closed' as const, compartmentId: 'A1' }));
}

function send(d: Device, batch: DeviceEvent[]): Promise<unknown> {
  return d.client.publishAsync(topics.events(d.locker.id), encode({ v: 1, events: batch }), { qos: 1 });
}

async function rows(lockerId: string): Promise<number> {
  const r = await t.server.ctx.db.selectFrom('device_events').select((eb) => eb.fn.countAll<number>().as('n')).where('locker_id', '=', lockerId).executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('event acks', () => {
  it('are sent only for committed batches: a batch whose commit fails gets none, the others of its group one each', async () => {
    const devices = await Promise.all(Array.from({ length: 6 }, async () => connectDevice(await registerLocker(t.api))));
    const [poisoned, ...good] = devices as [Device, ...Device[]];
    // A real failure inside the database, for one batch only: the insert of its events aborts.
    await sql`CREATE TRIGGER poison BEFORE INSERT ON device_events WHEN NEW.event_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned batch'); END`.execute(t.server.ctx.db);
    const failedBefore = t.server.stats.mqttRejected.get('HANDLER_FAILED') ?? 0;

    // All at once, so that they share a group (one transaction), which fails and is retried batch by batch.
    await Promise.all([send(poisoned, events(1, 5, (s) => (s === 3 ? 'poison' : `p${s}`))), ...good.map((d) => send(d, events(1, 5)))]);
    await expect.poll(() => (t.server.stats.mqttRejected.get('HANDLER_FAILED') ?? 0) > failedBefore, { message: 'the poisoned batch to fail' }).toBe(true);
    await expect.poll(() => good.every((d) => d.acks.length >= 1), { message: 'the other batches to be acked' }).toBe(true);

    expect(await rows(poisoned.locker.id)).toBe(0);
    for (const d of good) expect(await rows(d.locker.id)).toBe(5);

    // The poisoned locker resends once the cause is gone; the good ones send their next batch. MQTT keeps each
    // connection's order, so an extra ack of the first round would arrive before these.
    await sql`DROP TRIGGER poison`.execute(t.server.ctx.db);
    await Promise.all([send(poisoned, events(1, 5)), ...good.map((d) => send(d, events(6, 2)))]);
    await expect.poll(() => poisoned.acks.length >= 1 && good.every((d) => d.acks.length >= 2), { message: 'the second round of acks' }).toBe(true);

    expect(poisoned.acks).toEqual([[1, 2, 3, 4, 5]]);
    for (const d of good) expect(d.acks).toEqual([[1, 2, 3, 4, 5], [6, 7]]);
    expect(await rows(poisoned.locker.id)).toBe(5);
  }, 60_000);

  it('answers a resent batch with the same ack, and applies its events once', async () => {
    const d = await connectDevice(await registerLocker(t.api));
    const applied = t.server.stats.eventsApplied;
    const duplicates = t.server.stats.eventsDuplicate;
    const batch = events(1, 4);
    // The same batch three times at once (resends that crossed an ack), most likely in one group.
    await Promise.all([send(d, batch), send(d, batch), send(d, batch)]);
    await expect.poll(() => d.acks.length >= 3, { message: 'three acks' }).toBe(true);
    expect(d.acks).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    expect(d.ackQos).toEqual([0, 0, 0]);
    expect(t.server.stats.eventsApplied - applied).toBe(4);
    expect(t.server.stats.eventsDuplicate - duplicates).toBe(8);
    expect(await rows(d.locker.id)).toBe(4);
  });

  it('finds events another process committed meanwhile: counted as duplicates, the batch acked once', async () => {
    const [d, other] = await Promise.all([connectDevice(await registerLocker(t.api)), connectDevice(await registerLocker(t.api))]);
    await send(d, events(1, 2));
    await expect.poll(() => d.acks.length >= 1, { message: 'the first ack' }).toBe(true);
    // Seqs 3 and 4 committed by another server process sharing the database (as in a scale-out deployment):
    // this process has not seen them, so it takes the next batch for new.
    await t.server.ctx.db
      .insertInto('device_events')
      .values([3, 4].map((seq) => ({ locker_id: d.locker.id, seq, event_id: `e${seq}`, boot_id: 'boot1', device_at: 1, received_at: 1, type: 'door.closed', body: '{}' })))
      .execute();
    const applied = t.server.stats.eventsApplied;
    const duplicates = t.server.stats.eventsDuplicate;
    await Promise.all([send(d, events(3, 3)), send(other, events(1, 2))]);
    await expect.poll(() => d.acks.length >= 2 && other.acks.length >= 1, { message: 'both acks' }).toBe(true);
    expect(d.acks).toEqual([[1, 2], [3, 4, 5]]);
    expect(other.acks).toEqual([[1, 2]]);
    expect(t.server.stats.eventsApplied - applied).toBe(3);
    expect(t.server.stats.eventsDuplicate - duplicates).toBe(2);
    expect(await rows(d.locker.id)).toBe(5);
  });
});
