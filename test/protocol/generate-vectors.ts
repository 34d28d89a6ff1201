/**
 * Produces docs/protocol-vectors.json, the test vectors of docs/protocol.md ("Test vectors").
 *
 *   npx tsx test/protocol/generate-vectors.ts
 *
 * writes docs/protocol-vectors.json itself (it prints nothing on success). Importing this module does nothing:
 * `generateVectors()` builds the vectors and `renderVectors()` gives the exact bytes of the file, so the test
 * can check that the committed file is what this code makes.
 *
 * The output is byte-identical on every run: key material is derived from fixed labels, every jti and time is a
 * constant, Ed25519 signatures are deterministic (RFC 8032), and objects are built in a fixed key order.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { base64url } from 'jose';
import { GRANT_ALG, GRANT_TYP, GrantClaims } from '../../shared/grants.js';
import { BatchItems } from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import type { GrantVector, ProtocolVectors } from './vector-schema.js';
import {
  ISSUED,
  DAY,
  EXP,
  NOW_MS,
  TOLERANCE,
  LOCKER,
  OTHER_LOCKER,
  KID,
  DEPOSIT_PIN,
  PICKUP_PIN,
  BATCH_PIN,
  PIN_EXAMPLES,
  fixedBytes,
  ed25519FromSeed,
  json64,
  claimsFor,
  sign,
  signClaims,
  signRaw,
  withoutKey,
  flipMiddle,
  parts,
} from './vector-inputs.js';

// ---- the vectors ----------------------------------------------------------------------------------------

export async function generateVectors(): Promise<ProtocolVectors> {
  const signing = ed25519FromSeed(fixedBytes('signing-key'), KID);
  // A different key pair that claims the same kid: its signatures must not verify.
  const impostor = ed25519FromSeed(fixedBytes('impostor-key'), KID);
  const pinKeyBytes = fixedBytes('pin-key');
  const ph = (pin: string): string => pinHash(pinKeyBytes, pin);
  const key = signing.privateKey;

  const deposit = claimsFor({ jti: 'jti-deposit-0001', act: 'deposit', cmp: 'A01', ph: ph(DEPOSIT_PIN) });
  const pickup = claimsFor({ jti: 'jti-pickup-00001', act: 'pickup', cmp: 'A01', ph: ph(PICKUP_PIN) });
  const depositToken = await signClaims(deposit, key);
  const pickupToken = await signClaims(pickup, key);
  const [dh, dp, ds] = parts(depositToken);

  const ctx = (over: Partial<GrantVector['context']> = {}): GrantVector['context'] => {
    const c: GrantVector['context'] = {
      lockerId: over.lockerId ?? LOCKER,
      now: over.now === undefined ? NOW_MS : over.now,
      clockToleranceSec: over.clockToleranceSec ?? TOLERANCE,
    };
    if (over.action !== undefined) c.action = over.action;
    return c;
  };
  const vector = (
    name: string,
    note: string,
    token: string,
    context: GrantVector['context'],
    expected: GrantVector['expected'],
    extra: { pin?: string; claims?: GrantClaims; items?: BatchItems } = {},
  ): GrantVector => ({
    name,
    note,
    token,
    ...(extra.pin !== undefined ? { pin: extra.pin } : {}),
    context,
    expected,
    ...(extra.claims !== undefined ? { claims: extra.claims } : {}),
    ...(extra.items !== undefined ? { items: extra.items } : {}),
  });
  const batch = claimsFor({ jti: 'jti-batch-000001', act: 'deposit_batch', cmp: 'A01', ph: ph(BATCH_PIN) });
  batch.sub = 'ds_4b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e';
  const batchItems: BatchItems = [
    { p: 'p_7c9e6679742540de944be07fc1f90ae7', c: 'A01' },
    { p: 'p_0f1e2d3c4b5a69788796a5b4c3d2e1f0', c: 'B02' },
  ];

  const grants: GrantVector[] = [
    // -- accepted --
    vector('deposit-ok', 'A valid deposit grant, checked for the deposit action.', depositToken, ctx({ action: 'deposit' }), 'OK', {
      pin: DEPOSIT_PIN,
      claims: deposit,
    }),
    vector('pickup-ok', 'A valid pickup grant; its ph claim is pinHash(pinKey, pin).', pickupToken, ctx({ action: 'pickup' }), 'OK', {
      pin: PICKUP_PIN,
      claims: pickup,
    }),
    vector('no-action-asked', 'Without an action in the context, any action is accepted.', depositToken, ctx(), 'OK', { claims: deposit }),
    vector(
      'unknown-claim-ignored',
      'Claims beyond the ten defined ones are ignored.',
      await signClaims({ ...deposit, jti: 'jti-extra-claim1', note: 'ignored' }, key),
      ctx({ action: 'deposit' }),
      'OK',
      { claims: { ...deposit, jti: 'jti-extra-claim1' } },
    ),
    vector(
      'deposit-batch-ok',
      'A batch deposit grant: one code for several parcels; sub is the session, items lists each parcel (p) and its compartment (c).',
      await signClaims({ ...batch, items: batchItems }, key),
      ctx({ action: 'deposit_batch' }),
      'OK',
      { pin: BATCH_PIN, claims: batch, items: batchItems },
    ),

    // -- malformed strings --
    vector('empty-string', 'An empty token.', '', ctx(), 'MALFORMED'),
    vector('not-a-token', 'Text without dots.', 'not a token', ctx(), 'MALFORMED'),
    vector('two-parts', 'Header and payload only: a compact JWS has exactly three parts.', `${dh}.${dp}`, ctx(), 'MALFORMED'),
    vector('five-parts', 'A valid grant followed by two more parts (a JWE has five).', `${depositToken}.AA.AA`, ctx(), 'MALFORMED'),
    vector('header-not-json', 'The first part is base64url but not a JSON object.', `${base64url.encode('lockstep')}.${dp}.${ds}`, ctx(), 'MALFORMED'),
    vector('header-not-base64url', 'The first part has characters outside base64url.', `!!!.${dp}.${ds}`, ctx(), 'MALFORMED'),

    // -- header --
    vector(
      'alg-none',
      'Unsigned token with alg "none" (empty signature part).',
      `${json64({ alg: 'none', typ: GRANT_TYP, kid: KID })}.${json64(deposit)}.`,
      ctx(),
      'BAD_ALGORITHM',
    ),
    vector(
      'hs256-with-public-key',
      'HS256 token whose HMAC secret is the 32 raw bytes of the public key (the classic key-confusion attack).',
      await sign({ alg: 'HS256', typ: GRANT_TYP, kid: KID }, JSON.stringify(deposit), base64url.decode(signing.publicJwk.x)),
      ctx(),
      'BAD_ALGORITHM',
    ),
    vector(
      'alg-ed25519-name',
      'Signed with the right key, but alg is "Ed25519" (RFC 9864 name); only "EdDSA" is accepted.',
      await signClaims(deposit, key, { alg: 'Ed25519' }),
      ctx(),
      'BAD_ALGORITHM',
    ),
    vector('typ-jwt', 'Signed with the right key, but typ is "JWT".', await signClaims(deposit, key, { typ: 'JWT' }), ctx(), 'WRONG_TYPE'),
    vector(
      'typ-other-case',
      'typ is compared byte for byte: a different letter case is refused.',
      await signClaims(deposit, key, { typ: 'Lockstep-Grant+JWT' }),
      ctx(),
      'WRONG_TYPE',
    ),
    vector(
      'typ-missing',
      'Signed with the right key, but no typ.',
      await sign({ alg: GRANT_ALG, kid: KID }, JSON.stringify(deposit), key),
      ctx(),
      'WRONG_TYPE',
    ),
    // -- header extensions: refused after alg and typ, before the key is looked up or the signature checked --
    vector(
      'crit-b64-false',
      'RFC 7797 unencoded payload: header crit ["b64"] with b64 false, the claims JSON itself as the middle part, signed by the right key over it. Refused: no header extension is understood.',
      signRaw({ alg: GRANT_ALG, typ: GRANT_TYP, kid: KID, b64: false, crit: ['b64'] }, JSON.stringify(deposit), key),
      ctx(),
      'MALFORMED',
    ),
    vector(
      'crit-b64-true',
      'Header crit ["b64"] with b64 true (an ordinary base64url payload), signed by the right key: a crit or b64 member is refused whatever its value.',
      signRaw({ alg: GRANT_ALG, typ: GRANT_TYP, kid: KID, b64: true, crit: ['b64'] }, json64(deposit), key),
      ctx(),
      'MALFORMED',
    ),
    vector(
      'crit-before-kid-and-signature',
      'Header crit ["exp"], a kid the locker does not hold, signed by the impostor key: the crit check comes before the key lookup and the signature.',
      signRaw({ alg: GRANT_ALG, typ: GRANT_TYP, kid: 'vectors-1999-01', crit: ['exp'], exp: EXP }, json64(deposit), impostor.privateKey),
      ctx(),
      'MALFORMED',
    ),
    vector(
      'typ-before-crit',
      'Header crit ["b64"] with b64 true and typ "JWT": typ is checked before crit.',
      signRaw({ alg: GRANT_ALG, typ: 'JWT', kid: KID, b64: true, crit: ['b64'] }, json64(deposit), key),
      ctx(),
      'WRONG_TYPE',
    ),
    vector(
      'kid-missing',
      'Signed with the right key, but no kid: the key is never guessed.',
      await sign({ alg: GRANT_ALG, typ: GRANT_TYP }, JSON.stringify(deposit), key),
      ctx(),
      'UNKNOWN_KEY',
    ),
    vector(
      'kid-unknown',
      'A kid the locker does not hold (and a signature by some other key): refused before any signature check.',
      await signClaims(deposit, impostor.privateKey, { kid: 'vectors-1999-01' }),
      ctx(),
      'UNKNOWN_KEY',
    ),

    // -- signature --
    vector(
      'payload-tampered',
      'The payload re-encoded with cmp changed to "A02"; header and signature kept.',
      `${dh}.${json64({ ...deposit, cmp: 'A02' })}.${ds}`,
      ctx(),
      'BAD_SIGNATURE',
    ),
    vector('signature-tampered', 'One character in the middle of the signature changed.', `${dh}.${dp}.${flipMiddle(ds)}`, ctx(), 'BAD_SIGNATURE'),
    vector('signature-empty', 'The signature part is empty.', `${dh}.${dp}.`, ctx(), 'BAD_SIGNATURE'),
    vector(
      'impostor-same-kid',
      'Signed by another Ed25519 key that claims the same kid.',
      await signClaims(deposit, impostor.privateKey),
      ctx(),
      'BAD_SIGNATURE',
    ),
    vector(
      'signature-before-claims',
      'Signed by the impostor key and missing ph: the signature is checked before the claims.',
      await signClaims(withoutKey(deposit, 'ph'), impostor.privateKey),
      ctx(),
      'BAD_SIGNATURE',
    ),

    // -- claims shape (all signed with the right key) --
    vector('claim-missing-ph', 'Every claim is required; ph is missing.', await signClaims(withoutKey(deposit, 'ph'), key), ctx(), 'MALFORMED'),
    vector('claim-missing-exp', 'Every claim is required; exp is missing.', await signClaims(withoutKey(deposit, 'exp'), key), ctx(), 'MALFORMED'),
    vector(
      'claim-wrong-issuer',
      'iss must be exactly "lockstep".',
      await signClaims({ ...deposit, iss: 'someone-else' }, key),
      ctx(),
      'MALFORMED',
    ),
    vector('claim-exp-string', 'Times are JSON integers, not strings.', await signClaims({ ...deposit, exp: String(EXP) }, key), ctx(), 'MALFORMED'),
    vector('claim-unknown-action', 'act must be one of deposit, pickup, collect, service, deposit_batch.', await signClaims({ ...deposit, act: 'open-all' }, key), ctx(), 'MALFORMED'),
    vector('payload-not-json', 'A correctly signed payload that is not JSON.', await sign({ alg: GRANT_ALG, typ: GRANT_TYP, kid: KID }, 'deposit please', key), ctx(), 'MALFORMED'),

    // -- audience --
    vector(
      'wrong-locker',
      'A valid grant for another locker.',
      await signClaims(claimsFor({ aud: OTHER_LOCKER, jti: 'jti-elsewhere-01', act: 'deposit', cmp: 'A01', ph: ph(DEPOSIT_PIN) }), key),
      ctx(),
      'WRONG_LOCKER',
    ),
    vector(
      'wrong-locker-before-window',
      'The deposit grant checked by another locker after it expired: the audience is checked first.',
      depositToken,
      ctx({ lockerId: OTHER_LOCKER, now: (EXP + DAY) * 1000 }),
      'WRONG_LOCKER',
    ),

    // -- window: valid for nbf - tolerance <= floor(now / 1000) < exp + tolerance --
    vector('not-yet-valid', 'One hour before nbf, tolerance 300 s.', depositToken, ctx({ now: (ISSUED - 3600) * 1000 }), 'NOT_YET_VALID'),
    vector(
      'not-yet-valid-last-ms',
      'The last millisecond before nbf - tolerance.',
      depositToken,
      ctx({ now: (ISSUED - TOLERANCE) * 1000 - 1 }),
      'NOT_YET_VALID',
    ),
    vector('valid-from-nbf-minus-tolerance', 'Exactly nbf - tolerance.', depositToken, ctx({ now: (ISSUED - TOLERANCE) * 1000 }), 'OK', {
      claims: deposit,
    }),
    vector('within-tolerance-after-exp', '60 s after exp, tolerance 300 s.', depositToken, ctx({ now: (EXP + 60) * 1000 }), 'OK', { claims: deposit }),
    vector(
      'last-ms-of-tolerance',
      'The last millisecond before exp + tolerance (times are floored to whole seconds).',
      depositToken,
      ctx({ now: (EXP + TOLERANCE) * 1000 - 1 }),
      'OK',
      { claims: deposit },
    ),
    vector('expired-at-exp-plus-tolerance', 'Exactly exp + tolerance.', depositToken, ctx({ now: (EXP + TOLERANCE) * 1000 }), 'EXPIRED'),
    vector('expired', 'One day after exp.', depositToken, ctx({ now: (EXP + DAY) * 1000 }), 'EXPIRED'),
    vector('expired-at-exp-no-tolerance', 'exp itself is outside the window.', depositToken, ctx({ now: EXP * 1000, clockToleranceSec: 0 }), 'EXPIRED'),
    vector(
      'window-skipped-when-storing',
      'An expired grant checked with now = null (as when a grant arrives in the desired state): the window is not checked.',
      depositToken,
      ctx({ now: null }),
      'OK',
      { claims: deposit },
    ),

    // -- action --
    vector('wrong-action', 'The deposit grant presented for a pickup.', depositToken, ctx({ action: 'pickup' }), 'WRONG_ACTION'),
    vector('pickup-is-not-collect', 'A pickup grant does not authorise collect.', pickupToken, ctx({ action: 'collect' }), 'WRONG_ACTION'),
    vector(
      'expired-before-action',
      'An expired grant presented for the wrong action: the window is checked first.',
      depositToken,
      ctx({ now: (EXP + DAY) * 1000, action: 'pickup' }),
      'EXPIRED',
    ),
  ];

  return {
    about:
      'Test vectors for Lockstep protocol version 1: grant verification and PIN hashing. See docs/protocol.md, "Test vectors". ' +
      'Generated; do not edit by hand.',
    protocolVersion: PROTOCOL_VERSION,
    generator: 'npx tsx test/protocol/generate-vectors.ts',
    grantHeader: { alg: GRANT_ALG, typ: GRANT_TYP },
    keys: {
      signing: {
        note: 'The grant signing key. Give the verifier only publicJwk. d is the 32-byte RFC 8032 private key (seed).',
        privateJwk: signing.privateJwk,
        publicJwk: signing.publicJwk,
      },
      impostor: {
        note: 'Another key pair with the same kid, used to sign tokens that must fail with BAD_SIGNATURE. Never give it to the verifier.',
        privateJwk: impostor.privateJwk,
        publicJwk: impostor.publicJwk,
      },
    },
    pin: {
      note: 'pinHash = base64url(HMAC-SHA256(key = pinKey bytes, message = UTF-8 of hmacInput)), no padding, 43 characters.',
      pinKey: pinKeyBytes.toString('base64url'),
      pinKeyHex: pinKeyBytes.toString('hex'),
      vectors: PIN_EXAMPLES.map((pin) => ({ pin, hmacInput: `lockstep-pin-v1:${pin}`, pinHash: ph(pin) })),
    },
    grants,
  };
}

/** The exact bytes of docs/protocol-vectors.json. */
export function renderVectors(vectors: ProtocolVectors): string {
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

export const VECTORS_FILE = fileURLToPath(new URL('../../docs/protocol-vectors.json', import.meta.url));

async function main(): Promise<void> {
  writeFileSync(VECTORS_FILE, renderVectors(await generateVectors()));
}

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runDirectly) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
