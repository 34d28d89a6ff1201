/**
 * The shape of docs/protocol-vectors.json (a TypeBox schema the vectors test validates the file against), and the
 * verdict codes every vector's expectation is one of. test/protocol/generate-vectors.ts produces the file.
 */
import { Type, type Static } from '@sinclair/typebox';
import { GRANT_ALG, GRANT_TYP, GrantClaims, type GrantVerdictCode } from '../../shared/grants.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { BatchItems, GrantAction, PublicJwk } from '../../shared/messages.js';

/** Every verdict code of shared/grants.ts (checked to be complete at compile time below). */
export const VERDICT_CODES = [
  'MALFORMED',
  'BAD_ALGORITHM',
  'WRONG_TYPE',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'WRONG_LOCKER',
  'NOT_YET_VALID',
  'EXPIRED',
  'WRONG_ACTION',
] as const satisfies readonly GrantVerdictCode[];
const everyVerdictListed: [Exclude<GrantVerdictCode, (typeof VERDICT_CODES)[number]>] extends [never] ? true : false = true;
void everyVerdictListed;

export const PrivateJwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  d: Type.String(),
  kid: Type.String(),
});

const KeyPair = Type.Object({ note: Type.String(), privateJwk: PrivateJwk, publicJwk: PublicJwk });

const GrantVector = Type.Object({
  name: Type.String(),
  note: Type.String(),
  token: Type.String(),
  /** The PIN whose hash is the grant's `ph` claim, where the vector states it. */
  pin: Type.Optional(Type.String()),
  context: Type.Object({
    lockerId: Type.String(),
    /** Milliseconds since the epoch; null skips the window (the check made when a grant is stored). */
    now: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    clockToleranceSec: Type.Integer({ minimum: 0 }),
    action: Type.Optional(GrantAction),
  }),
  expected: Type.Union([Type.Literal('OK'), ...VERDICT_CODES.map((c) => Type.Literal(c))]),
  /** For "OK" vectors: the ten defined claims the verifier must return (unknown claims left out). */
  claims: Type.Optional(GrantClaims),
  /** For an "OK" `deposit_batch` vector: the `items` claim the verifier must return besides the ten. */
  items: Type.Optional(BatchItems),
});
export type GrantVector = Static<typeof GrantVector>;

export const ProtocolVectors = Type.Object({
  about: Type.String(),
  protocolVersion: Type.Literal(PROTOCOL_VERSION),
  generator: Type.String(),
  grantHeader: Type.Object({ alg: Type.Literal(GRANT_ALG), typ: Type.Literal(GRANT_TYP) }),
  keys: Type.Object({ signing: KeyPair, impostor: KeyPair }),
  pin: Type.Object({
    note: Type.String(),
    pinKey: Type.String(),
    pinKeyHex: Type.String(),
    vectors: Type.Array(Type.Object({ pin: Type.String(), hmacInput: Type.String(), pinHash: Type.String() })),
  }),
  grants: Type.Array(GrantVector),
});
export type ProtocolVectors = Static<typeof ProtocolVectors>;

