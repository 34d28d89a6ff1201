import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { batchItemsOf } from '../../device/batch.js';
import { decoderFor, type Decoder } from '../../shared/codec.js';
import { GrantVerifier, peekGrantClaims } from '../../shared/grants.js';
import {
  LockerCommandMessage,
  DeviceEvent,
  EVENT_TYPES,
  EventAckMessage,
  EventBatchMessage,
  GrantAction,
  HeartbeatMessage,
  StateGetMessage,
  StateMessage,
  StateReportedMessage,
  StatusMessage,
} from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, type TopicKind } from '../../shared/topics.js';
import { VECTORS_FILE, generateVectors, renderVectors } from './generate-vectors.js';
import { ProtocolVectors, VERDICT_CODES } from './vector-schema.js';

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
  // The commands topic also carries update and diagnostics commands (issue 19).
  commands: decoderFor(LockerCommandMessage),
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

// ---- docs/protocol.md against the code: what an implementation written from the document alone needs ----------

/** The rows of the markdown table whose header row starts with `| <first> |`, as arrays of cells. */
function tableAfter(first: string, from = 0): string[][] {
  const lines = spec.slice(from).split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start, `a table starting with ${first}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

const grantActions = GrantAction.anyOf.map((a) => a.const as string);

describe('docs/protocol.md says what the code does', () => {
  const eventTable = tableAfter('Member', spec.indexOf('### Event batch'));

  it('the event member table lists every member of an event, and nothing else', () => {
    expect(eventTable.map((r) => r[0]?.replaceAll('`', '')).sort()).toEqual(Object.keys(DeviceEvent.properties).sort());
  });

  it('the event `action` and the grant `act` list every grant action', () => {
    const actionRow = eventTable.find((r) => r[0] === '`action`')?.[1] ?? '';
    const actRow = tableAfter('Claim').find((r) => r[0] === '`act`')?.[1] ?? '';
    for (const action of grantActions) {
      expect(actionRow, `event action ${action}`).toContain(`\`${action}\``);
      expect(actRow, `claim act ${action}`).toContain(`\`${action}\``);
    }
  });

  it('the claim-unknown-action vector names every action the claims allow', () => {
    const note = vectors.grants.find((v) => v.name === 'claim-unknown-action')?.note ?? '';
    expect(note.match(/[a-z_]+(?=[,.])/g)).toEqual(grantActions);
  });

  it('the verification steps put the crit/b64 check after typ and before the key, and vectors show it', () => {
    const steps = tableAfter('#', spec.indexOf('### Verification'));
    const at = (pattern: RegExp) => steps.findIndex((r) => pattern.test(r[1] ?? ''));
    expect(at(/`typ`/)).toBeLessThan(at(/`crit`/));
    expect(at(/`crit`/)).toBeLessThan(at(/`kid`/));
    expect(steps[at(/`crit`/)]?.[2]).toBe('`MALFORMED`');
    const headerOf = (token: string): object => {
      try {
        return decodeProtectedHeader(token);
      } catch {
        return {};
      }
    };
    const crit = vectors.grants.filter((v) => 'crit' in headerOf(v.token));
    expect(crit.map((v) => [v.name, v.expected])).toEqual([
      ['crit-b64-false', 'MALFORMED'],
      ['crit-b64-true', 'MALFORMED'],
      ['crit-before-kid-and-signature', 'MALFORMED'],
      ['typ-before-crit', 'WRONG_TYPE'],
    ]);
    for (const v of crit) expect(spec, v.name).toContain(`\`${v.name}\``);
  });

  it('every vector the document names exists', () => {
    const names = new Set(vectors.grants.map((v) => v.name));
    const section = spec.slice(spec.indexOf('### Verification'), spec.indexOf('### Keys'));
    const testSection = spec.slice(spec.indexOf('## Test vectors'));
    const cited = [...`${section}${testSection}`.matchAll(/`([a-z0-9]+(?:-[a-z0-9]+)+)`/g)].map((m) => m[1] ?? '');
    expect(cited.length).toBeGreaterThan(10);
    for (const name of cited) expect(names, name).toContain(name);
  });
});
