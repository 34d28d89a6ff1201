import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'mqtt-packet';
import { PacketGuard, type PacketLimits } from '../../server/broker/packet-guard.js';
import { WindowCounter } from '../../server/http/rate-limit-window.js';
import { ManualClock } from '../../shared/clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { fixedHeader, rawClient, remainingLength, type RawClient } from './mqtt-limits-wire.js';

const METRICS_TOKEN = 'metrics-token-for-the-mqtt-limits-test-0123456789';
const LIMITS: PacketLimits = { connectBytes: 4096, packetBytes: 69_632 };
const connectPacket = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'L1', username: 'L1', password: Buffer.from('x'.repeat(300)), clean: true, keepalive: 30 });
const publish = (bytes: number) => generate({ cmd: 'publish', topic: 'lockers/L1/events', payload: Buffer.alloc(bytes), qos: 1, messageId: 7, retain: false, dup: false });
const ping = generate({ cmd: 'pingreq' });

/** Feeds `bytes` one slice at a time and returns every verdict. */
function feedInSlices(guard: PacketGuard, bytes: Buffer, cuts: number[]): string[] {
  const verdicts: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    verdicts.push(guard.feed(bytes.subarray(from, cut)));
    from = cut;
  }
  return verdicts;
}

describe('the packet guard (fixed header of every packet, before the broker buffers it)', () => {
  it('lets a CONNECT and, once signed in, several packets in one chunk through', () => {
    const guard = new PacketGuard(LIMITS);
    expect(guard.feed(connectPacket)).toBe('OK');
    guard.signedIn();
    expect(guard.feed(Buffer.concat([publish(100), ping, publish(65_536), ping]))).toBe('OK');
  });

  it('follows packet boundaries whatever the chunking: headers and lengths split across chunks, one byte at a time', () => {
    const bytes = Buffer.concat([publish(20_000), ping, publish(3), publish(65_536)]);
    const guard = new PacketGuard(LIMITS);
    guard.feed(connectPacket);
    guard.signedIn();
    // Every cut, including inside the two-byte and three-byte lengths.
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1).filter((i) => i < 40 || i % 997 === 0 || i > bytes.length - 40);
    expect(new Set(feedInSlices(guard, bytes, cuts))).toEqual(new Set(['OK']));
    // Still in step: an oversized packet right after is caught.
    expect(guard.feed(fixedHeader(0x32, LIMITS.packetBytes + 1))).toBe('PACKET_TOO_LARGE');
  });

  it('refuses a packet the moment its length is known to exceed the limit, even split across chunks', () => {
    const guard = new PacketGuard(LIMITS);
    guard.feed(connectPacket);
    guard.signedIn();
    const header = fixedHeader(0x32, 200 * 1024 * 1024);
    expect(header.length).toBe(5);
    expect(feedInSlices(guard, header, [1, 2, 3, 4])).toEqual(['OK', 'OK', 'OK', 'OK', 'PACKET_TOO_LARGE']);
    // Once refused, always refused.
    expect(guard.feed(ping)).toBe('PACKET_TOO_LARGE');
  });

  it('takes a packet of exactly the limit and refuses one byte more', () => {
    const ok = new PacketGuard(LIMITS);
    ok.feed(connectPacket);
    ok.signedIn();
    expect(ok.feed(fixedHeader(0x32, LIMITS.packetBytes))).toBe('OK');
    const over = new PacketGuard(LIMITS);
    over.feed(connectPacket);
    over.signedIn();
    expect(over.feed(fixedHeader(0x32, LIMITS.packetBytes + 1))).toBe('PACKET_TOO_LARGE');
  });

  it('refuses a CONNECT over its own small limit, a first packet that is not a CONNECT, and a fifth length byte', () => {
    expect(new PacketGuard(LIMITS).feed(fixedHeader(0x10, LIMITS.connectBytes + 1))).toBe('CONNECT_TOO_LARGE');
    expect(new PacketGuard(LIMITS).feed(fixedHeader(0x10, 200 * 1024 * 1024))).toBe('CONNECT_TOO_LARGE');
    expect(new PacketGuard(LIMITS).feed(publish(10))).toBe('FIRST_NOT_CONNECT');
    const guard = new PacketGuard({ connectBytes: 4096, packetBytes: 2 ** 30 });
    guard.feed(connectPacket);
    guard.signedIn();
    expect(guard.feed(Buffer.from([0x32, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe('BAD_LENGTH');
  });

  it('refuses more than a CONNECT’s worth of bytes before the client is signed in', () => {
    const guard = new PacketGuard(LIMITS);
    expect(guard.feed(connectPacket)).toBe('OK');
    // Pipelined packets while the sign-in is checked: small ones pass, up to the budget.
    expect(guard.feed(ping)).toBe('OK');
    expect(guard.feed(publish(4000))).toBe('TOO_MUCH_BEFORE_SIGN_IN');
  });

  it('encodes lengths as MQTT does (the test’s own helper)', () => {
    expect([...remainingLength(127)]).toEqual([0x7f]);
    expect([...remainingLength(128)]).toEqual([0x80, 0x01]);
    expect([...remainingLength(268_435_455)]).toEqual([0xff, 0xff, 0xff, 0x7f]);
    expect(publish(65_536).subarray(1, 4)).toEqual(remainingLength(65_536 + 2 + 'lockers/L1/events'.length + 2));
  });
});

describe('the window counter (connection attempts per address)', () => {
  it('counts per key in fixed windows on the injected clock, gives back, and stays bounded', () => {
    const clock = new ManualClock();
    const c = new WindowCounter(clock, 10_000, 3);
    expect([c.count('a'), c.count('a'), c.count('b')]).toEqual([1, 2, 1]);
    c.giveBack('a');
    expect(c.peek('a')).toBe(1);
    clock.advance(10_000);
    expect(c.peek('a')).toBe(0);
    expect(c.count('a')).toBe(1);
    for (const k of ['c', 'd', 'e']) c.count(k);
    expect(c.peek('a') + c.peek('c') + c.peek('d') + c.peek('e')).toBeLessThanOrEqual(3);
  });
});

describe('the embedded broker’s socket limits (in process, real sockets)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    // Loopback is exempt by default; 'none' puts this test's own address under the limit.
    t = await startTestServer({ mqttConnectsPerAddressPer10s: 3, mqttConnectLimitExempt: 'none', mqttSignInTimeoutMs: 800, metricsToken: METRICS_TOKEN });
  });
  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await t.close();
  });
  const open = async () => {
    const c = await rawClient(t.mqttUrl);
    clients.push(c);
    return c;
  };

  it('closes the connections an address opens beyond its limit at once, and every connection that does not sign in in time', async () => {
    const started = Date.now();
    const allowed = [await open(), await open(), await open()];
    const refused = await open();
    await refused.closed;
    expect(allowed.some((c) => c.isClosed())).toBe(false);
    // One sends nothing, one a CONNECT header and a trickle of its body (slow loris), one half a header.
    allowed[1]?.socket.write(Buffer.concat([fixedHeader(0x10, 1000), Buffer.alloc(10)]));
    allowed[2]?.socket.write(Buffer.from([0x10]));
    await Promise.all(allowed.map((c) => c.closed));
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const c of [...allowed, refused]) expect(c.received().length).toBe(0);
    // Each closed connection counted by its reason in /metrics.
    const metrics = await (await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/^lockstep_mqtt_connections_refused_total\{reason="TOO_MANY_FROM_ADDRESS"\} 1$/m);
    expect(metrics).toMatch(/^lockstep_mqtt_connections_refused_total\{reason="SIGN_IN_TIMEOUT"\} 3$/m);
  });
});
