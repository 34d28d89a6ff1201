import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { batchItemsOf } from '../../device/batch.js';
import { decoderFor, type Decoder } from '../../shared/codec.js';
import { GrantVerifier, peekGrantClaims } from '../../shared/grants.js';
import {
  CommandMessage,
  EVENT_TYPES,
  EventAckMessage,
  EventBatchMessage,
  HeartbeatMessage,
  StateGetMessage,
  StateMessage,
  StateReportedMessage,
  StatusMessage,
} from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, type TopicKind } from '../../shared/topics.js';
import { ProtocolVectors, VECTORS_FILE, VERDICT_CODES, generateVectors, renderVectors } from './generate-vectors.js';

const committed = readFileSync(VECTORS_FILE, 'utf8');

function load(text: string): ProtocolVectors {
  const raw: unknown = JSON.parse(text);
  if (!Value.Check(ProtocolVectors, raw)) {
    const first = Value.Errors(ProtocolVectors, raw).First();
    throw new Error(`docs/protocol-vectors.json does not match its schema: ${first?.path ?? '/'} ${first?.message ?? ''}`);
  }
  return raw;
}

const vectors = load(committed);
const pinKey = Buffer.from(vectors.pin.pinKey, 'base64url');

describe('the committed test vectors (docs/protocol-vectors.json)', () => {
  it('are exactly what the generator produces today, byte for byte', async () => {
    expect(renderVectors(await generateVectors())).toBe(committed);
  });

  it('are for the protocol version the code speaks', () => {
    expect(vectors.protocolVersion).toBe(PROTOCOL_VERSION);
  });

  it('publish the public key that belongs to the stated private key', () => {
    const { privateJwk, publicJwk } = vectors.keys.signing;
    const derived = createPublicKey(createPrivateKey({ key: { kty: privateJwk.kty, crv: privateJwk.crv, d: privateJwk.d, x: privateJwk.x }, format: 'jwk' }));
    expect(derived.export({ format: 'jwk' }).x).toBe(publicJwk.x);
    expect(publicJwk.kid).toBe(privateJwk.kid);
  });

  it('give the impostor key the same kid as the signing key, but a different key', () => {
    expect(vectors.keys.impostor.publicJwk.kid).toBe(vectors.keys.signing.publicJwk.kid);
    expect(vectors.keys.impostor.publicJwk.x).not.toBe(vectors.keys.signing.publicJwk.x);
  });

  it('cover every verdict the verifier can give, and acceptance', () => {
    const seen = new Set(vectors.grants.map((v) => v.expected));
    for (const code of ['OK', ...VERDICT_CODES]) expect(seen, code).toContain(code);
  });

  it('name each grant vector once', () => {
    const names = vectors.grants.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('PIN hashes', () => {
  it('use a 32-byte pinKey', () => {
    expect(pinKey).toHaveLength(32);
    expect(pinKey.toString('hex')).toBe(vectors.pin.pinKeyHex);
  });

  it.each(vectors.pin.vectors)('PIN $pin hashes to $pinHash under the vector pinKey', ({ pin, hmacInput, pinHash: expected }) => {
    expect(hmacInput).toBe(`lockstep-pin-v1:${pin}`);
    expect(pinHash(pinKey, pin)).toBe(expected);
    expect(expected).toHaveLength(43);
  });

  it('the pickup grant carries the hash of its PIN in ph, never the PIN itself', () => {
    const pickup = vectors.grants.find((v) => v.name === 'pickup-ok');
    expect(pickup?.pin).toBeDefined();
    const pin = pickup?.pin ?? '';
    const claims = peekGrantClaims(pickup?.token ?? '');
    expect(claims).toMatchObject({ act: 'pickup', ph: pinHash(pinKey, pin) });
    expect(pickup?.token).not.toContain(pin);
    expect(vectors.pin.vectors.map((p) => p.pin)).toContain(pin);
  });
});

describe('grant verification: every vector gets its stated verdict from the reference verifier', () => {
  it.each(vectors.grants)('$name → $expected', async ({ token, context, expected, claims, items }) => {
    const verdict = await new GrantVerifier([vectors.keys.signing.publicJwk]).verify(token, context);
    expect(verdict.ok ? 'OK' : verdict.code).toBe(expected);
    if (verdict.ok) {
      expect(verdict.kid).toBe(vectors.keys.signing.publicJwk.kid);
      expect(claims, 'an OK vector states its claims').toBeDefined();
      // The ten defined claims; a verifier may keep unknown claims besides.
      expect(verdict.claims).toMatchObject(claims ?? {});
      // A batch grant's parcels, as the locker reads them (device/batch.ts).
      if (verdict.claims.act === 'deposit_batch') expect(batchItemsOf(verdict.claims)).toEqual(items);
      else expect(items).toBeUndefined();
    }
  });

  it('a locker that holds only the impostor key accepts none of the signing key’s grants', async () => {
    const verifier = new GrantVerifier([vectors.keys.impostor.publicJwk]);
    for (const v of vectors.grants.filter((g) => g.expected === 'OK')) {
      const verdict = await verifier.verify(v.token, v.context);
      expect(verdict.ok ? 'OK' : verdict.code, v.name).toBe('BAD_SIGNATURE');
    }
  });
});

// ---- docs/protocol.md: its examples are real payloads -------------------------------------------------------

const spec = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** JSON examples in the spec, tagged after the fence: ```json <topic kind | grant-header | grant-claims>. */
const examples = [...spec.matchAll(/^```json ([^\n]+)\n([\s\S]*?)^```$/gm)].map((m) => ({ tag: m[1] ?? '', text: m[2] ?? '' }));

const decodeEvents = decoderFor(EventBatchMessage);
const decodeState = decoderFor(StateMessage);
const decoders: Record<TopicKind, Decoder<unknown>> = {
  status: decoderFor(StatusMessage),
  heartbeat: decoderFor(HeartbeatMessage),
  events: decodeEvents,
  'state/get': decoderFor(StateGetMessage),
  'state/reported': decoderFor(StateReportedMessage),
  'events/ack': decoderFor(EventAckMessage),
  state: decodeState,
  commands: decoderFor(CommandMessage),
};
const isTopicKind = (tag: string): tag is TopicKind => tag in decoders;
const payloadExamples = examples.filter((e): e is { tag: TopicKind; text: string } => isTopicKind(e.tag));

function onlyExample(tag: string): unknown {
  const found = examples.filter((e) => e.tag === tag);
  expect(found, tag).toHaveLength(1);
  return JSON.parse(found[0]?.text ?? 'null');
}

describe('the payload examples in docs/protocol.md', () => {
  it('show at least one payload for every topic', () => {
    for (const kind of [...DEVICE_PUBLISHES, ...DEVICE_SUBSCRIBES]) expect(payloadExamples.map((e) => e.tag), kind).toContain(kind);
  });

  it.each(payloadExamples.map((e, i) => ({ ...e, n: i + 1 })))('example $n ($tag) decodes with the schema of its topic', ({ tag, text }) => {
    const decoded = decoders[tag](text);
    expect(decoded.ok ? 'ok' : `${decoded.code}: ${decoded.detail}`).toBe('ok');
  });

  it('the events examples show every event type', () => {
    const types = new Set<string>();
    for (const e of payloadExamples.filter((x) => x.tag === 'events')) {
      const decoded = decodeEvents(e.text);
      if (decoded.ok) for (const ev of decoded.value.events) types.add(ev.type);
    }
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('the grant header and claims shown are those of the deposit-ok vector', () => {
    const depositOk = vectors.grants.find((v) => v.name === 'deposit-ok');
    expect(onlyExample('grant-header')).toEqual(decodeProtectedHeader(depositOk?.token ?? ''));
    expect(onlyExample('grant-claims')).toEqual(depositOk?.claims);
  });

  it('the snapshot example carries the vector key, pinKey and a grant that opens at its server time', async () => {
    const snapshot = payloadExamples
      .filter((e) => e.tag === 'state')
      .map((e) => decodeState(e.text))
      .flatMap((d) => (d.ok && d.value.full ? [d.value] : []));
    expect(snapshot).toHaveLength(1);
    const s = snapshot[0];
    if (!s) return;
    expect(s.keys).toEqual([vectors.keys.signing.publicJwk]);
    expect(s.config.pinKey).toBe(vectors.pin.pinKey);
    const depositOk = vectors.grants.find((v) => v.name === 'deposit-ok');
    const verdict = await new GrantVerifier(s.keys).verify(s.grants[0] ?? '', {
      lockerId: depositOk?.context.lockerId ?? '',
      now: s.serverTime,
      clockToleranceSec: s.config.clockToleranceSec,
    });
    expect(verdict.ok).toBe(true);
  });
});
