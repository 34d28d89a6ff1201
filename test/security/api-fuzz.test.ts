import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ERRORS, type ErrorCode } from '../../server/errors.js';
import { ErrorResponse } from '../../server/http/schemas.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { book, call, createAccount, databaseSnapshot } from './api-helpers.js';

/**
 * Random bodies, headers, tokens and paths against the main routes. Whatever arrives: never a 5xx, every
 * refusal in the catalogue shape with the status its code stands for, and a refusal writes nothing.
 */
const RUNS = 200;
const checkErrorShape = TypeCompiler.Compile(ErrorResponse);

let t: TestServer;
let tokens: Record<'admin' | 'operator' | 'carrierA' | 'carrierB' | 'disabled' | 'revoked', string>;
let lockerId: string;
let parcelA: string;
let parcelB: string;

beforeAll(async () => {
  t = await startTestServer({ rateLimitPerMinute: 1_000_000, rateLimitAnonymousPerMinute: 1_000_000 });
  const operator = await createAccount(t, 'operator');
  const carrierA = await createAccount(t, 'carrier', 'A');
  const carrierB = await createAccount(t, 'carrier', 'B');
  const disabled = await createAccount(t, 'carrier', 'gone');
  await call(t, t.server.adminToken, 'POST', `/v1/accounts/${disabled.id}/disable`);
  const revoked = await createAccount(t, 'carrier', 'revoked');
  await call(t, t.server.adminToken, 'POST', `/v1/accounts/${revoked.id}/tokens/${revoked.tokenId}/revoke`);
  tokens = {
    admin: t.server.adminToken,
    operator: operator.token,
    carrierA: carrierA.token,
    carrierB: carrierB.token,
    disabled: disabled.token,
    revoked: revoked.token,
  };
  const compartments = ['S', 'S', 'S', 'S', 'S', 'S', 'M', 'M', 'L', 'XL'].map((size, i) => ({ id: `C${i}`, size }));
  lockerId = (await registerLocker(t.api, compartments)).id;
  parcelA = await book(t, tokens.carrierA, lockerId, 'FUZZ-A');
  parcelB = await book(t, tokens.carrierB, lockerId, 'FUZZ-B');
});
afterAll(() => t.close());

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 });
const anything = fc.jsonValue({ maxDepth: 3 });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The Authorization header: a real role's token, a dead one, garbage, or none. */
const authorization = fc.oneof(
  {
    weight: 30,
    arbitrary: fc
      .constantFrom('admin', 'admin', 'admin', 'operator', 'carrierA', 'carrierA', 'carrierA', 'carrierB', 'disabled', 'revoked')
      .map((who) => () => `Bearer ${tokens[who as keyof typeof tokens]}`),
  },
  fc.constant(() => undefined),
  printable.map((s) => () => s),
  printable.map((s) => () => `Bearer ${s}`),
  fc.tuple(anything, anything, printable).map(([h, p, s]) => () => `Bearer ${b64(h)}.${b64(p)}.${s}`),
  fc.constantFrom('admin', 'carrierA').map((who) => () => `Bearer ${tokens[who as keyof typeof tokens]}`.slice(0, -2)),
  fc.constant(() => `Bearer ${'a'.repeat(1100)}`),
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    undefined,
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'Application/JSON',
    'application/vnd.api+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    '*/*',
    '',
  ),
);

const extraHeaders = fc.dictionary(
  fc.constantFrom('accept', 'accept-encoding', 'content-encoding', 'x-forwarded-for', 'x-request-id', 'origin', 'cookie', 'user-agent'),
  printable,
  { maxKeys: 3 },
);

/** A body: JSON of a value (often close to a valid request), broken JSON, or a large string. */
function bodyOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: printable },
    { weight: 1, arbitrary: value.map((v) => (JSON.stringify(v) ?? '').slice(0, -1)) },
    { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify({ reference: 'x'.repeat(n) })) },
  );
}

/** Usually `valid`, sometimes one of the others: most bodies are one or two mistakes away from a valid one. */
function mostly<T>(valid: T, ...others: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 5, arbitrary: fc.constant(valid) }, ...others.map((arbitrary) => ({ weight: 1, arbitrary })));
}

/** null three times in four. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** A record of the given fields that sometimes lacks one and sometimes has an extra one; or any JSON at all. */
function nearly(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  const record = fc
    .tuple(fc.record(fields), rarely(fc.constantFrom(...keys)), rarely(anything))
    .map(([r, drop, extra]) => {
      const out: Record<string, unknown> = { ...r };
      if (drop !== null) delete out[drop];
      if (extra !== null) out.extra = extra;
      return out;
    });
  return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: anything });
}

function bookingBody(): fc.Arbitrary<unknown> {
  return nearly({
    lockerId: mostly(lockerId, fc.constant('lk_nope'), printable, anything),
    size: mostly('S', fc.constantFrom('M', 'L', 'XL', 'XXL', 's', ''), anything),
    recipient: mostly(
      { email: 'r@x.example' },
      fc.record({ phone: fc.oneof(fc.constant('+48 600 100 200'), printable, anything), email: fc.oneof(printable, anything) }, { requiredKeys: [] }),
      anything,
    ),
    reference: mostly('REF-1', fc.string({ maxLength: 120 }), anything),
  });
}

function lockerBody(): fc.Arbitrary<unknown> {
  const compartment = nearly({ id: mostly('A1', fc.constantFrom('B1', 'A 1', ''), printable), size: mostly('S', fc.constantFrom('XL', 'XXL'), anything) });
  return nearly({
    name: mostly('Fuzz locker', fc.string({ maxLength: 120 }), anything),
    location: mostly({ lat: 52.2, lon: 21 }, nearly({ lat: fc.oneof(fc.double(), anything), lon: fc.oneof(fc.double(), anything) })),
    compartments: mostly([{ id: 'A1', size: 'S' }], fc.array(compartment, { maxLength: 4 }), anything),
  });
}

function accountBody(): fc.Arbitrary<unknown> {
  return nearly({
    name: mostly('Fuzz carrier', fc.string({ maxLength: 120 }), anything),
    role: mostly('carrier', fc.constantFrom('admin', 'operator', 'root', ''), anything),
  });
}

interface Sent {
  method: string;
  url: string;
  auth: () => string | undefined;
  contentType?: string | undefined;
  headers: Record<string, string>;
  payload?: string;
}

/** Sends one request and checks the answer against the three rules. */
async function sendAndCheck(req: Sent): Promise<void> {
  const before = await databaseSnapshot(t);
  const authValue = req.auth();
  const headers: Record<string, string> = { ...req.headers };
  if (authValue !== undefined) headers.authorization = authValue;
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  const res = await t.server.app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers,
    ...(req.payload === undefined ? {} : { payload: req.payload }),
  });
  const where = `${req.method} ${req.url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode < 400) return;
  const body = JSON.parse(res.body) as unknown;
  expect(checkErrorShape.Check(body), where).toBe(true);
  expect(Object.keys(body as object), where).toEqual(['error']);
  const code = (body as { error: { code: ErrorCode } }).error.code;
  expect(ERRORS[code]?.status, where).toBe(res.statusCode);
  expect(await databaseSnapshot(t), `${where}: a refusal wrote to the database`).toBe(before);
}

describe('API fuzz', () => {
  it('POST /v1/parcels: never 5xx, coded refusals that write nothing', async () => {
    await fc.assert(
      fc.asyncProperty(authorization, contentType, extraHeaders, bodyOf(bookingBody()), async (auth, ct, headers, payload) => {
        await sendAndCheck({ method: 'POST', url: '/v1/parcels', auth, contentType: ct, headers, payload });
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/lockers and POST /v1/accounts: never 5xx, coded refusals that write nothing', async () => {
    const route = fc.oneof(
      fc.tuple(fc.constant('/v1/lockers'), bodyOf(lockerBody())),
      fc.tuple(fc.constant('/v1/accounts'), bodyOf(accountBody())),
    );
    await fc.assert(
      fc.asyncProperty(authorization, contentType, extraHeaders, route, async (auth, ct, headers, [url, payload]) => {
        await sendAndCheck({ method: 'POST', url, auth, contentType: ct, headers, payload });
      }),
      { numRuns: RUNS },
    );
  });

  it('GET routes with random paths, ids, queries and methods: never 5xx, coded refusals that write nothing', async () => {
    const segment = fc.oneof(
      fc.constantFrom(parcelA, parcelB, lockerId, '..', '.', '%00', '%', '%zz', '%2F', 'p_nope'),
      fc.webSegment(),
      fc.string({ maxLength: 100 }).map(encodeURIComponent),
      fc.string({ minLength: 65, maxLength: 300 }).map(encodeURIComponent),
    );
    const url = fc
      .tuple(
        fc.oneof(
          segment.map((s) => `/v1/parcels/${s}`),
          segment.map((s) => `/v1/parcels/${s}/notifications`),
          segment.map((s) => `/v1/lockers/${s}`),
          segment.map((s) => `/v1/accounts/${s}`),
          fc.constantFrom('/v1/lockers', '/v1/parcels', '/v1/accounts', '/healthz', '/.well-known/jwks.json', '//v1//lockers', '/v1/lockers/'),
          fc.webPath(),
        ),
        fc.option(fc.webQueryParameters(), { nil: undefined }),
      )
      .map(([p, q]) => (q === undefined ? p || '/' : `${p || '/'}?${q}`));
    const method = fc.oneof({ weight: 4, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('DELETE', 'PUT', 'PATCH', 'OPTIONS') });
    await fc.assert(
      fc.asyncProperty(authorization, method, url, extraHeaders, async (auth, m, u, headers) => {
        await sendAndCheck({ method: m, url: u, auth, headers });
      }),
      { numRuns: RUNS },
    );
  });
});
