import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceIdentity, enrol } from '../../device/identity.js';
import { DeviceStore } from '../../device/store/device-store.js';
import { decoderFor, type Decoder } from '../../shared/codec.js';
import {
  EVENT_TYPES,
  EventBatchMessage,
  HeartbeatMessage,
  StateGetMessage,
  StateReportedMessage,
  StatusMessage,
  type DeviceEvent,
} from '../../shared/messages.js';
import { MAX_PAYLOAD_BYTES } from '../../shared/protocol-version.js';
import { topics, type DeviceTopicKind } from '../../shared/topics.js';
import type { EnrolmentTicket, LockerView } from '../../shared/api/lockers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * A locker's controller turned hostile: it holds real credentials (an enrolled key) and publishes whatever it
 * likes. The server must never crash, must keep serving, must change nothing for a payload it refuses, and must
 * count every refusal.
 */
let t: TestServer;
let lockerId: string;
let store: DeviceStore;
let storeDir: string;
let identity: DeviceIdentity;
let client: MqttClient;
const acked = new Set<number>();
let nextSeq = 1;

async function connect(): Promise<MqttClient> {
  const c = await mqtt.connectAsync(t.mqttUrl, {
    clientId: lockerId,
    username: lockerId,
    password: await identity.brokerPassword(lockerId, Date.now()),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  c.on('error', () => undefined);
  return c;
}

beforeAll(async () => {
  t = await startTestServer();
  const created = await t.api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', {
    name: 'Hostile',
    location: { lat: 52, lon: 21 },
    compartments: [{ id: 'A1', size: 'S' }],
  });
  lockerId = created.id;
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-fuzz-'));
  store = await DeviceStore.open(path.join(storeDir, 'd.sqlite'), () => 'x');
  identity = await DeviceIdentity.loadOrCreate(store);
  await enrol(t.httpUrl, lockerId, created.enrolment.token, identity.publicKey);
  client = await connectMain();
});

/** The hostile controller's own connection, listening for acks of its batches. */
async function connectMain(): Promise<MqttClient> {
  const c = await connect();
  await c.subscribeAsync(topics.eventsAck(lockerId), { qos: 1 });
  c.on('message', (topic, payload) => {
    if (topic !== topics.eventsAck(lockerId)) return;
    for (const s of (JSON.parse(payload.toString()) as { seqs: number[] }).seqs) acked.add(s);
  });
  return c;
}
afterAll(async () => {
  await client.endAsync(true).catch(() => undefined);
  await store.close();
  rmSync(storeDir, { recursive: true, force: true });
  await t.close();
});

function event(seq: number, over: Partial<DeviceEvent> = {}): DeviceEvent {
  return { seq, id: `ev${seq}`, bootId: 'fuzzboot', at: Date.now(), type: 'door.closed', compartmentId: 'A1', ...over };
}

/** A valid batch with the next seq; resolves once the server acknowledged it. */
async function validBatchIsAcked(c: MqttClient = client): Promise<void> {
  const seq = nextSeq++;
  await c.publishAsync(topics.events(lockerId), JSON.stringify({ v: 1, events: [event(seq)] }), { qos: 1 });
  await expect.poll(() => acked.has(seq), { message: `the ack of seq ${seq}` }).toBe(true);
}

/** Every row the device topics could write: equal snapshots = nothing changed. */
async function snapshot(withPresence = true): Promise<string> {
  const db = t.server.ctx.db;
  const lockers = await db.selectFrom('lockers').selectAll().orderBy('id').execute();
  const parts: unknown[] = [
    withPresence ? lockers : lockers.map(({ online: _o, last_seen_at: _l, boot_id: _b, ...rest }) => rest),
    await db.selectFrom('device_events').selectAll().orderBy('seq').execute(),
    await db.selectFrom('compartments').selectAll().orderBy('id').execute(),
    await db.selectFrom('parcels').selectAll().execute(),
    await db.selectFrom('grants').selectAll().execute(),
    await db.selectFrom('parcel_history').selectAll().execute(),
    await db.selectFrom('desired_changes').selectAll().execute(),
    await db.selectFrom('commands').selectAll().execute(),
    await db.selectFrom('alarms').selectAll().execute(),
    await db.selectFrom('audit_log').selectAll().execute(),
  ];
  return JSON.stringify(parts);
}

const DECODERS: Record<DeviceTopicKind, Decoder<unknown>> = {
  status: decoderFor(StatusMessage),
  heartbeat: decoderFor(HeartbeatMessage),
  events: decoderFor(EventBatchMessage),
  'state/get': decoderFor(StateGetMessage),
  'state/reported': decoderFor(StateReportedMessage),
};
const KINDS = Object.keys(DECODERS) as DeviceTopicKind[];
/** aedes' default `maxTopicLevels`: a PUBLISH to a deeper topic is refused before the authorizePublish hook. */
const AEDES_MAX_TOPIC_LEVELS = 100;

/** A valid message of each kind, to mutate. */
const VALID: Record<DeviceTopicKind, Record<string, unknown>> = {
  status: { v: 1, state: 'online', bootId: 'fuzzboot', at: 1 },
  heartbeat: { v: 1, bootId: 'fuzzboot', at: 1, lastSeq: 1, outbox: 0, appliedVersion: 0 },
  events: { v: 1, events: [event(1_000_000, { type: 'code.rejected', reason: 'UNKNOWN_CODE', via: 'keypad' })] },
  'state/get': { v: 1, have: 0, reason: 'connect' },
  'state/reported': { v: 1, version: 0, lastSeq: 0 },
};

const anyJson = fc.jsonValue({ maxDepth: 4 });
const mutation: fc.Arbitrary<(m: Record<string, unknown>) => unknown> = fc.oneof(
  fc.constantFrom('v', 'events', 'bootId', 'state', 'have', 'version', 'lastSeq', 'at').map((k) => (m: Record<string, unknown>) => {
    const { [k]: _drop, ...rest } = m;
    return rest;
  }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyJson).map(([k, val]) => (m: Record<string, unknown>) => ({ ...m, [`x${k}`]: val })),
  fc.tuple(fc.constantFrom('v', 'events', 'bootId', 'state', 'at', 'lastSeq', 'version'), anyJson).map(([k, val]) => (m: Record<string, unknown>) => ({ ...m, [k]: val })),
  fc.oneof(fc.constant(0), fc.constant(2), fc.constant('1'), fc.constant(null)).map((v) => (m: Record<string, unknown>) => ({ ...m, v })),
  fc.record({ field: fc.constantFrom<keyof DeviceEvent>('seq', 'id', 'type', 'at', 'reason', 'failures', 'compartmentId', 'lockedUntil'), value: anyJson }).map(
    ({ field, value }) => (m: Record<string, unknown>) => ({ ...m, events: [{ ...event(1_000_001), [field]: value }] }),
  ),
  fc.integer({ min: 101, max: 300 }).map((n) => (m: Record<string, unknown>) => ({ ...m, events: Array.from({ length: n }, (_, i) => event(2_000_000 + i)) })),
  fc.constant((m: Record<string, unknown>) => [m]),
);

/** Everything a hostile controller might send as a payload. */
const hostilePayload: fc.Arbitrary<{ kind: DeviceTopicKind; payload: Buffer }> = fc.record({
  kind: fc.constantFrom(...KINDS),
  shape: fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => ({ bytes: Buffer.from(b) })) },
    { weight: 3, arbitrary: anyJson.map((j) => ({ text: JSON.stringify(j) })) },
    { weight: 6, arbitrary: mutation.map((mutate) => ({ mutate })) },
    // Over the payload limit but within the broker's packet limit (64 KiB + 8 KiB of header room): the decoder
    // refuses it. A larger packet closes the connection at the transport (test/security/mqtt-limits.test.ts).
    { weight: 1, arbitrary: fc.integer({ min: MAX_PAYLOAD_BYTES + 1, max: MAX_PAYLOAD_BYTES + 2048 }).map((size) => ({ oversized: size })) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 30_000 }).map((depth) => ({ deep: depth })) },
  ),
}).map(({ kind, shape }) => {
  if ('bytes' in shape) return { kind, payload: shape.bytes };
  if ('text' in shape) return { kind, payload: Buffer.from(shape.text) };
  if ('mutate' in shape) return { kind, payload: Buffer.from(JSON.stringify(shape.mutate(VALID[kind])) ?? 'null') };
  if ('oversized' in shape) {
    const base = JSON.stringify({ ...VALID[kind], pad: '' });
    return { kind, payload: Buffer.from(base.replace('"pad":""', `"pad":"${'x'.repeat(shape.oversized - base.length)}"`)) };
  }
  return { kind, payload: Buffer.from(`{"v":1,"events":${'['.repeat(shape.deep)}${']'.repeat(shape.deep)}}`) };
});

describe('hostile MQTT input from an enrolled locker (fast-check, real broker and server)', () => {
  it('random bytes, random JSON, mutated, oversized and deeply nested payloads: refused, counted, nothing changed, server keeps serving', async () => {
    await validBatchIsAcked();
    const before = await snapshot();
    const rejectedBefore = t.server.stats.rejectedTotal();
    let published = 0;
    await fc.assert(
      fc.asyncProperty(hostilePayload, async ({ kind, payload }) => {
        fc.pre(!DECODERS[kind](payload).ok);
        const expected = t.server.stats.rejectedTotal() + 1;
        await client.publishAsync(`lockers/${lockerId}/${kind}`, payload, { qos: 1 });
        published++;
        await expect.poll(() => t.server.stats.rejectedTotal() >= expected, { message: `the rejection of a ${kind} payload` }).toBe(true);
        expect(t.server.stats.rejectedTotal()).toBe(expected);
      }),
      { numRuns: 300, seed: 4242 },
    );
    expect(published).toBeGreaterThan(200);
    expect(t.server.stats.rejectedTotal() - rejectedBefore).toBe(published);
    const codes = Object.fromEntries(t.server.stats.mqttRejected);
    expect(codes.HANDLER_FAILED).toBeUndefined();
    for (const code of ['PAYLOAD_TOO_LARGE', 'MALFORMED_JSON', 'UNSUPPORTED_VERSION', 'SCHEMA_MISMATCH']) expect(codes[code], code).toBeGreaterThan(0);
    expect(await snapshot()).toBe(before);
    expect(client.connected).toBe(true);
    await validBatchIsAcked();
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  }, 120_000);

  it('deep topics, unknown kinds, server topics and other lockers’ topics are denied by the broker, counted, and change nothing', async () => {
    const before = await snapshot(false);
    const segment = fc.stringMatching(/^[a-zA-Z0-9_.$ -]{0,12}$/);
    const hostileTopic = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 40 }).map((parts) => `lockers/${lockerId}/events/${parts.join('/')}`),
      segment.filter((k) => !(KINDS as string[]).includes(k)).map((k) => `lockers/${lockerId}/${k}`),
      fc.constantFrom('state', 'commands', 'events/ack', 'state/', '/events', 'events/').map((k) => `lockers/${lockerId}/${k}`),
      fc.constantFrom(...KINDS).map((k) => `lockers/lk_someoneelse/${k}`),
      fc.constantFrom('$SYS/broker/x', 'lockers', `lockers/${lockerId}`, 'x'.repeat(5000), `lockers/${lockerId}/${'a/'.repeat(2000)}events`),
    );
    let denied = 0;
    await fc.assert(
      fc.asyncProperty(hostileTopic, fc.constantFrom(...KINDS), async (topic, kind) => {
        const c = await connect();
        const deniedBefore = t.server.stats.aclDenied;
        let closed = false;
        c.once('close', () => (closed = true));
        c.publish(topic, JSON.stringify(VALID[kind]), { qos: 0 });
        // MQTT 3.1.1 cannot refuse one PUBLISH: the broker closes the connection.
        await expect.poll(() => closed, { message: `the broker to close the connection after a publish to ${topic.slice(0, 60)}` }).toBe(true);
        if (topic.split('/').length - 1 <= AEDES_MAX_TOPIC_LEVELS) {
          expect(t.server.stats.aclDenied).toBe(deniedBefore + 1);
        } else {
          // Deeper topics are refused by aedes itself before the ACL hook (not counted by the server's stats).
          expect(t.server.stats.aclDenied).toBe(deniedBefore);
        }
        denied++;
        await c.endAsync(true).catch(() => undefined);
      }),
      { numRuns: 40, seed: 77 },
    );
    expect(denied).toBe(40);
    expect(await snapshot(false)).toBe(before);
    // Each of those connections took the locker's client id over from the main one: connect it again.
    await client.endAsync(true).catch(() => undefined);
    client = await connectMain();
    await validBatchIsAcked();
  }, 120_000);

  it('schema-valid batches of odd events (unknown parcels, grants, commands; any type) are committed once and acknowledged, never a handler failure', async () => {
    const oddEvent = fc.record({
      type: fc.constantFrom(...EVENT_TYPES),
      parcelId: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      jti: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      commandId: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      compartmentId: fc.constantFrom('A1', 'Z9'),
      reason: fc.constantFrom('UNKNOWN_CODE', 'DOOR_CYCLE_ASSUMED', 'X'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(oddEvent, { minLength: 1, maxLength: 20 }), async (events) => {
        const seqs = events.map(() => nextSeq++);
        const batch = { v: 1, events: events.map((e, i) => event(seqs[i] ?? 0, e)) };
        expect(DECODERS.events(JSON.stringify(batch)).ok).toBe(true);
        await client.publishAsync(topics.events(lockerId), JSON.stringify(batch), { qos: 1 });
        await expect.poll(() => seqs.every((s) => acked.has(s)), { message: 'the ack of the batch' }).toBe(true);
      }),
      { numRuns: 40, seed: 9 },
    );
    expect(t.server.stats.mqttRejected.get('HANDLER_FAILED')).toBeUndefined();
    const stored = await t.server.ctx.db.selectFrom('device_events').select((eb) => eb.fn.countAll<number>().as('n')).where('locker_id', '=', lockerId).executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(nextSeq - 1);
  }, 120_000);
});
