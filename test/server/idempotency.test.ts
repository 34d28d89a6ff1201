import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { canonicalJson, isStoredAnswer, judgeKey, requestFingerprint, IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS } from '../../server/http/idempotency-rules.js';
import { claimKey } from '../../server/http/idempotency-store.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from '../security/api-helpers.js';

const clock = new ManualClock(Date.now());
let t: TestServer;
let carrier: CreatedAccount;
let other: CreatedAccount;
let lockerId: string;

beforeAll(async () => {
  t = await startTestServer({}, clock);
  carrier = await createAccount(t, 'carrier', 'parcels-r-us');
  other = await createAccount(t, 'carrier', 'other carrier');
  lockerId = (await registerLocker(t.api, Array.from({ length: 20 }, (_, i) => ({ id: `A${i + 1}`, size: 'S' })))).id;
});
afterAll(() => t.close());

const booking = (reference: string) => ({ lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference });
const post = (token: string, url: string, payload: object, key?: string) =>
  t.server.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload,
  });
const parcelsWith = async (reference: string) => (await t.server.ctx.db.selectFrom('parcels').select('id').where('reference', '=', reference).execute()).length;
const errorCode = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;

describe('Idempotency-Key on POST', () => {
  it('the same key and body books once: the retry gets the first answer, marked as replayed', async () => {
    const first = await post(carrier.token, '/v1/parcels', booking('IDEM-1'), 'key-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Keys in another order: the same body.
    const { reference, ...rest } = booking('IDEM-1');
    const again = await post(carrier.token, '/v1/parcels', { reference, ...rest }, 'key-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.body).toBe(first.body);
    expect(await parcelsWith('IDEM-1')).toBe(1);
  });

  it('without a key every POST is its own request (unchanged behaviour)', async () => {
    expect((await post(carrier.token, '/v1/parcels', booking('IDEM-NOKEY'))).statusCode).toBe(201);
    expect((await post(carrier.token, '/v1/parcels', booking('IDEM-NOKEY'))).statusCode).toBe(201);
    expect(await parcelsWith('IDEM-NOKEY')).toBe(2);
  });

  it('the same key with another body or path is 422 IDEMPOTENCY_KEY_REUSED and books nothing', async () => {
    expect((await post(carrier.token, '/v1/parcels', booking('IDEM-2'), 'key-2')).statusCode).toBe(201);
    const other = await post(carrier.token, '/v1/parcels', booking('IDEM-2b'), 'key-2');
    expect(other.statusCode).toBe(422);
    expect(errorCode(other)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await parcelsWith('IDEM-2b')).toBe(0);
    const elsewhere = await post(carrier.token, '/v1/parcels/nope/cancel', {}, 'key-2');
    expect(errorCode(elsewhere)).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('keys are per account: another carrier\'s same key is its own request', async () => {
    expect((await post(carrier.token, '/v1/parcels', booking('IDEM-3'), 'shared-key')).statusCode).toBe(201);
    const theirs = await post(other.token, '/v1/parcels', booking('IDEM-3'), 'shared-key');
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(await parcelsWith('IDEM-3')).toBe(2);
  });

  it('a request still in flight with the key is 409 IDEMPOTENCY_KEY_IN_FLIGHT; an abandoned one is taken over after its lock', async () => {
    const body = booking('IDEM-4');
    // Another process claimed the key and has not answered yet.
    const fingerprint = requestFingerprint('POST', '/v1/parcels', body);
    expect(await claimKey(t.server.ctx.db, { account: `carrier:${carrier.id}`, key: 'key-4' }, fingerprint, clock.now())).toBe(true);
    const res = await post(carrier.token, '/v1/parcels', body, 'key-4');
    expect(res.statusCode).toBe(409);
    expect(errorCode(res)).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    expect(await parcelsWith('IDEM-4')).toBe(0);
    // That process died: once the lock lapses a retry runs the request.
    clock.advance(IDEMPOTENCY_LOCK_MS);
    const retry = await post(carrier.token, '/v1/parcels', body, 'key-4');
    expect(retry.statusCode).toBe(201);
    expect(await parcelsWith('IDEM-4')).toBe(1);
  });

  it('concurrent requests with one key book once; the others replay it or hear it is in flight', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => post(carrier.token, '/v1/parcels', booking('IDEM-5'), 'key-5')));
    expect(await parcelsWith('IDEM-5')).toBe(1);
    expect(results.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
  });

  it('a refusal is an answer too: replayed as it was', async () => {
    const first = await post(carrier.token, '/v1/parcels', { ...booking('IDEM-6'), lockerId: 'no-such-locker' }, 'key-6');
    expect(first.statusCode).toBe(404);
    const again = await post(carrier.token, '/v1/parcels', { ...booking('IDEM-6'), lockerId: 'no-such-locker' }, 'key-6');
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });

  it('a malformed key is 400 IDEMPOTENCY_KEY_INVALID and books nothing', async () => {
    for (const key of ['', 'has space', 'x'.repeat(256), 'caf\u00e9']) {
      const res = await post(carrier.token, '/v1/parcels', booking('IDEM-7'), key);
      expect(res.statusCode, JSON.stringify(key)).toBe(400);
      expect(errorCode(res)).toBe('IDEMPOTENCY_KEY_INVALID');
    }
    expect(await parcelsWith('IDEM-7')).toBe(0);
  });

  it('routes whose answer holds a credential refuse a key (IDEMPOTENCY_NOT_SUPPORTED) and create nothing', async () => {
    const res = await post(t.server.adminToken, '/v1/accounts', { name: 'keyed', role: 'carrier' }, 'acct-1');
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('IDEMPOTENCY_NOT_SUPPORTED');
    expect(await t.server.ctx.db.selectFrom('accounts').select('id').where('name', '=', 'keyed').execute()).toHaveLength(0);
  });

  it('after 24 h the key is forgotten: purged by the scheduler, and a new request with it runs', async () => {
    expect((await post(carrier.token, '/v1/parcels/unknown/extend', {}, 'key-8')).statusCode).toBe(404);
    const count = async () => (await t.server.ctx.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'key-8').execute()).length;
    await t.server.scheduler.runOnce();
    expect(await count()).toBe(1);
    clock.advance(IDEMPOTENCY_TTL_MS);
    await t.server.scheduler.runOnce();
    expect(await count()).toBe(0);
    const fresh = await post(carrier.token, '/v1/parcels', booking('IDEM-8'), 'key-8');
    expect(fresh.statusCode).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('idempotency rules', () => {
  const stored = { fingerprint: 'f', state: 'done' as const, status: 201, locked_until: 100, expires_at: 1000 };
  it('judges a stored key', () => {
    expect(judgeKey(undefined, 'f', 0).kind).toBe('run');
    expect(judgeKey(stored, 'f', 1000).kind).toBe('run');
    expect(judgeKey(stored, 'g', 0).kind).toBe('reused');
    expect(judgeKey(stored, 'f', 0).kind).toBe('replay');
    expect(judgeKey({ ...stored, state: 'in_flight' }, 'f', 99).kind).toBe('in_flight');
    expect(judgeKey({ ...stored, state: 'in_flight' }, 'f', 100).kind).toBe('take_over');
  });
  it('keeps answers that did something or refused for good, not 429 and 5xx', () => {
    expect([200, 201, 400, 404, 409, 422].every(isStoredAnswer)).toBe(true);
    expect([429, 500, 503].some(isStoredAnswer)).toBe(false);
  });
  it('canonical JSON ignores key order, not values', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
    expect(requestFingerprint('POST', '/x', { a: 1 })).not.toBe(requestFingerprint('POST', '/x', { a: 2 }));
  });
});
