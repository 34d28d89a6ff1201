import { describe, expect, it } from 'vitest';
import { decoderFor, encode } from '../../shared/codec.js';
import { EventBatchMessage, StatusMessage } from '../../shared/messages.js';
import { MAX_PAYLOAD_BYTES } from '../../shared/protocol-version.js';
import { SERVER_SUBSCRIPTIONS, deviceMayPublish, deviceMaySubscribe, parseTopic, topics } from '../../shared/topics.js';

describe('topics', () => {
  it('builds and parses every per-locker topic', () => {
    for (const build of Object.values(topics)) {
      const t = build('lk_a');
      expect(parseTopic(t)?.lockerId).toBe('lk_a');
    }
    expect(parseTopic('lockers/lk_a/events/ack')).toEqual({ lockerId: 'lk_a', kind: 'events/ack' });
  });

  it('rejects topics that are not exactly ours', () => {
    for (const t of ['lockers/lk_a', 'lockers//events', 'lockers/LK-A/events', 'lockers/lk_a/events/x', '$SYS/x', 'other/lk_a/events', 'lockers/+/events']) {
      expect(parseTopic(t), t).toBeNull();
    }
  });

  it('lets a locker publish and subscribe only to its own topics, by exact name', () => {
    expect(deviceMayPublish('lk_a', topics.events('lk_a'))).toBe(true);
    expect(deviceMayPublish('lk_a', topics.events('lk_b'))).toBe(false);
    expect(deviceMayPublish('lk_a', topics.state('lk_a'))).toBe(false);
    expect(deviceMaySubscribe('lk_a', topics.state('lk_a'))).toBe(true);
    expect(deviceMaySubscribe('lk_a', topics.events('lk_a'))).toBe(false);
    for (const f of ['#', 'lockers/#', 'lockers/+/state', 'lockers/lk_a/#', '$SYS/#', topics.state('lk_b')]) {
      expect(deviceMaySubscribe('lk_a', f), f).toBe(false);
    }
  });

  it('subscribes the server to every device-published kind', () => {
    expect(SERVER_SUBSCRIPTIONS).toContain('lockers/+/events');
    expect(SERVER_SUBSCRIPTIONS).toContain('lockers/+/status');
  });
});

describe('payload decoding', () => {
  const decodeStatus = decoderFor(StatusMessage);
  const decodeBatch = decoderFor(EventBatchMessage);

  it('accepts a valid message', () => {
    expect(decodeStatus(encode({ v: 1, state: 'online', bootId: 'b1' }))).toEqual({ ok: true, value: { v: 1, state: 'online', bootId: 'b1' } });
  });

  it('gives a stable code for each kind of bad payload', () => {
    expect(decodeStatus('{nope')).toMatchObject({ ok: false, code: 'MALFORMED_JSON' });
    expect(decodeStatus(encode({ v: 2, state: 'online', bootId: 'b1' }))).toMatchObject({ ok: false, code: 'UNSUPPORTED_VERSION' });
    expect(decodeStatus(encode({ v: 1, state: 'sleepy', bootId: 'b1' }))).toMatchObject({ ok: false, code: 'SCHEMA_MISMATCH' });
    expect(decodeStatus(encode({ v: 1, state: 'online', bootId: 'b1', extra: 1 }))).toMatchObject({ ok: false, code: 'SCHEMA_MISMATCH' });
    expect(decodeStatus(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 32))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(decodeBatch(encode({ v: 1, events: [] }))).toMatchObject({ ok: false, code: 'SCHEMA_MISMATCH' });
  });

  it('never throws, whatever the bytes', () => {
    for (const p of [Buffer.from([0xff, 0xfe]), Buffer.alloc(0), 'null', '[]', '"x"', '{"v":1,"events":[{"seq":-1}]}']) {
      expect(decodeBatch(p).ok).toBe(false);
    }
  });
});
