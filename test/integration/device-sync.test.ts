import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { encode } from '../../shared/codec.js';
import type { DeviceEvent, EventAckMessage, StateMessage } from '../../shared/messages.js';
import { topics } from '../../shared/topics.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
const clients: MqttClient[] = [];
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await t.close();
});

async function connect(opts: { clientId: string; username?: string; password?: string }): Promise<MqttClient> {
  const c = await mqtt.connectAsync(t.mqttUrl, { ...opts, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 });
  clients.push(c);
  return c;
}

async function connectAs(locker: RegisteredLocker): Promise<MqttClient> {
  return connect({ clientId: locker.id, username: locker.id, password: locker.device.password });
}

/** Collects messages on a topic. */
function inbox(client: MqttClient, topic: string): Buffer[] {
  const got: Buffer[] = [];
  client.on('message', (t2, p) => {
    if (t2 === topic) got.push(p);
  });
  return got;
}

let n = 0;
function event(seq: number, over: Partial<DeviceEvent> = {}): DeviceEvent {
  return { seq, id: `ev${++n}`, bootId: 'boot1', at: Date.now(), type: 'door.opened', compartmentId: 'A1', ...over };
}

describe('broker access', () => {
  it('refuses anonymous clients, wrong passwords and borrowed identities', async () => {
    const a = await registerLocker(t.api);
    const b = await registerLocker(t.api);
    await expect(connect({ clientId: a.id })).rejects.toThrow();
    await expect(connect({ clientId: a.id, username: a.id, password: 'x'.repeat(43) })).rejects.toThrow();
    await expect(connect({ clientId: a.id, username: b.id, password: b.device.password })).rejects.toThrow();
    await expect(connect({ clientId: 'lk_unknown', username: 'lk_unknown', password: a.device.password })).rejects.toThrow();
    const ok = await connectAs(a);
    expect(ok.connected).toBe(true);
    expect(t.server.stats.authFailures).toBeGreaterThanOrEqual(4);
  });

  it('lets a locker subscribe only to its own topics, by exact name', async () => {
    const a = await registerLocker(t.api);
    const b = await registerLocker(t.api);
    const c = await connectAs(a);
    const granted = await c.subscribeAsync(topics.state(a.id), { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    const denied = t.server.stats.aclDenied;
    for (const filter of [topics.state(b.id), '#', 'lockers/+/state', `lockers/${a.id}/#`, '$SYS/#', topics.events(a.id)]) {
      // SUBACK 0x80 (failure) for each.
      await expect(c.subscribeAsync(filter, { qos: 1 }), filter).rejects.toThrow(/Subscribe error/);
    }
    expect(t.server.stats.aclDenied - denied).toBe(6);
  });

  it('drops what a locker publishes to another locker’s topics', async () => {
    const a = await registerLocker(t.api);
    const b = await registerLocker(t.api);
    const c = await connectAs(a);
    const denied = t.server.stats.aclDenied;
    c.publish(topics.events(b.id), encode({ v: 1, events: [event(1)] }), { qos: 0 });
    await expect.poll(() => t.server.stats.aclDenied > denied, { message: 'the publish to be denied' }).toBe(true);
    const view = await t.api.get<{ events: { received: number } }>(`/v1/lockers/${b.id}`);
    expect(view.events.received).toBe(0);
  });
});

describe('device events over MQTT', () => {
  it('commits each (locker, seq) once and acknowledges duplicates and reordered batches', async () => {
    const a = await registerLocker(t.api);
    const c = await connectAs(a);
    const acks = inbox(c, topics.eventsAck(a.id));
    await c.subscribeAsync(topics.eventsAck(a.id), { qos: 1 });
    const dupBefore = t.server.stats.eventsDuplicate;

    await c.publishAsync(topics.events(a.id), encode({ v: 1, events: [event(3), event(1)] }), { qos: 1 });
    await expect.poll(() => acks.length, { message: 'first ack' }).toBe(1);
    await c.publishAsync(topics.events(a.id), encode({ v: 1, events: [event(1), event(2), event(3)] }), { qos: 1 });
    await expect.poll(() => acks.length, { message: 'second ack' }).toBe(2);

    const parsed = acks.map((p) => JSON.parse(p.toString()) as EventAckMessage);
    expect(parsed[0]?.seqs).toEqual([1, 3]);
    expect(parsed[1]?.seqs).toEqual([1, 2, 3]);
    expect(t.server.stats.eventsDuplicate - dupBefore).toBe(2);
    const view = await t.api.get<{ events: { received: number; lastSeq: number } }>(`/v1/lockers/${a.id}`);
    expect(view.events).toEqual({ received: 3, lastSeq: 3 });
  });

  it('acknowledges only what it committed: a batch that fails to commit is not acknowledged', async () => {
    const a = await registerLocker(t.api);
    const c = await connectAs(a);
    const acks = inbox(c, topics.eventsAck(a.id));
    await c.subscribeAsync(topics.eventsAck(a.id), { qos: 1 });
    // Make the commit fail: a trigger refuses inserts into device_events for this locker.
    const { sql } = await import('kysely');
    await sql`CREATE TEMP TRIGGER fail_commit BEFORE INSERT ON device_events WHEN NEW.locker_id = ${sql.lit(a.id)} BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(t.server.ctx.db);
    try {
      await c.publishAsync(topics.events(a.id), encode({ v: 1, events: [event(1)] }), { qos: 1 });
      await expect.poll(() => (t.server.stats.mqttRejected.get('HANDLER_FAILED') ?? 0) > 0, { message: 'the failed commit' }).toBe(true);
      expect(acks).toHaveLength(0);
    } finally {
      await sql`DROP TRIGGER fail_commit`.execute(t.server.ctx.db);
    }
    await c.publishAsync(topics.events(a.id), encode({ v: 1, events: [event(1)] }), { qos: 1 });
    await expect.poll(() => acks.length, { message: 'the ack after the resend' }).toBe(1);
  });

  it('rejects and counts malformed payloads and keeps serving the locker', async () => {
    const a = await registerLocker(t.api);
    const c = await connectAs(a);
    const acks = inbox(c, topics.eventsAck(a.id));
    await c.subscribeAsync(topics.eventsAck(a.id), { qos: 1 });
    const before = t.server.stats.rejectedTotal();
    for (const bad of ['{not json', JSON.stringify({ v: 9, events: [] }), JSON.stringify({ v: 1, events: [{ seq: 0 }] }), Buffer.alloc(70_000, 65)]) {
      await c.publishAsync(topics.events(a.id), bad, { qos: 1 });
    }
    await c.publishAsync(topics.status(a.id), 'garbage', { qos: 1, retain: true });
    await expect.poll(() => t.server.stats.rejectedTotal() - before >= 5, { message: 'five rejections' }).toBe(true);
    expect(t.server.stats.mqttRejected.get('MALFORMED_JSON')).toBeGreaterThan(0);
    expect(t.server.stats.mqttRejected.get('UNSUPPORTED_VERSION')).toBeGreaterThan(0);
    expect(t.server.stats.mqttRejected.get('SCHEMA_MISMATCH')).toBeGreaterThan(0);
    expect(t.server.stats.mqttRejected.get('PAYLOAD_TOO_LARGE')).toBeGreaterThan(0);
    await c.publishAsync(topics.events(a.id), encode({ v: 1, events: [event(1)] }), { qos: 1 });
    await expect.poll(() => acks.length, { message: 'a valid batch to be acknowledged after the bad ones' }).toBe(1);
  });
});

describe('desired state over MQTT', () => {
  it('sends a delta with both grants on booking, and a full snapshot on request', async () => {
    const a = await registerLocker(t.api);
    const c = await connectAs(a);
    const states = inbox(c, topics.state(a.id));
    await c.subscribeAsync(topics.state(a.id), { qos: 1 });

    await c.publishAsync(topics.stateGet(a.id), encode({ v: 1, have: 0, reason: 'connect' }), { qos: 1 });
    await expect.poll(() => states.length, { message: 'the first snapshot' }).toBe(1);
    const first = JSON.parse(states[0]!.toString()) as StateMessage;
    expect(first).toMatchObject({ full: true, version: 0, grants: [] });

    const parcel = await t.api.post<{ id: string }>('/v1/parcels', { lockerId: a.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'D1' });
    await expect.poll(() => states.length, { message: 'the delta' }).toBe(2);
    const delta = JSON.parse(states[1]!.toString()) as StateMessage;
    expect(delta).toMatchObject({ full: false, version: 1, baseVersion: 0 });
    expect(delta.full === false && delta.changes.map((ch) => ch.op)).toEqual(['grant.add', 'grant.add']);

    await c.publishAsync(topics.stateGet(a.id), encode({ v: 1, have: 0, reason: 'gap' }), { qos: 1 });
    await expect.poll(() => states.length, { message: 'the second snapshot' }).toBe(3);
    const snap = JSON.parse(states[2]!.toString()) as StateMessage;
    expect(snap.full && snap.version).toBe(1);
    expect(snap.full && snap.grants).toHaveLength(2);
    expect(snap.full && snap.config.pinKey).toHaveLength(43);

    await c.publishAsync(topics.stateReported(a.id), encode({ v: 1, version: 1, lastSeq: 0 }), { qos: 1 });
    await expect.poll(async () => (await t.api.get<{ reportedVersion: number }>(`/v1/lockers/${a.id}`)).reportedVersion, { message: 'the reported version' }).toBe(1);
    expect(parcel.id).toMatch(/^p_/);
  });

  it('sends a snapshot to a locker whose heartbeat shows it stayed behind', async () => {
    const a = await registerLocker(t.api);
    const c = await connectAs(a);
    const states = inbox(c, topics.state(a.id));
    await c.subscribeAsync(topics.state(a.id), { qos: 1 });
    await t.api.post('/v1/parcels', { lockerId: a.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'LAG' });
    await expect.poll(() => states.length, { message: 'the delta' }).toBe(1);
    await c.publishAsync(topics.heartbeat(a.id), encode({ v: 1, bootId: 'b1', at: Date.now(), lastSeq: 0, outbox: 0, appliedVersion: 0 }), { qos: 1 });
    await expect.poll(() => states.length, { message: 'a snapshot after the heartbeat' }).toBe(2);
    expect(JSON.parse(states[1]!.toString())).toMatchObject({ full: true, version: 1 });
    await c.publishAsync(topics.heartbeat(a.id), encode({ v: 1, bootId: 'b1', at: Date.now(), lastSeq: 0, outbox: 0, appliedVersion: 1 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(states).toHaveLength(2);
  });

  it('marks a locker online on its status and offline when its will fires', async () => {
    const a = await registerLocker(t.api);
    const c = await mqtt.connectAsync(t.mqttUrl, {
      clientId: a.id,
      username: a.id,
      password: a.device.password,
      reconnectPeriod: 0,
      will: { topic: topics.status(a.id), payload: encode({ v: 1, state: 'offline', bootId: 'b1' }), qos: 1, retain: true },
    });
    await c.publishAsync(topics.status(a.id), encode({ v: 1, state: 'online', bootId: 'b1' }), { qos: 1, retain: true });
    await expect.poll(async () => (await t.api.get<{ online: boolean }>(`/v1/lockers/${a.id}`)).online, { message: 'online' }).toBe(true);
    c.stream.destroy();
    await expect.poll(async () => !(await t.api.get<{ online: boolean }>(`/v1/lockers/${a.id}`)).online, { message: 'offline after the will' }).toBe(true);
    await c.endAsync(true);
  });
});
