import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
let auth: Record<string, string>;
beforeAll(async () => {
  t = await startTestServer();
  auth = { authorization: `Bearer ${t.server.adminToken}` };
});
afterAll(() => t.close());

const inject = (opts: { method: 'GET' | 'POST'; url: string; payload?: unknown; headers?: Record<string, string> }) =>
  t.server.app.inject({ method: opts.method, url: opts.url, headers: { ...auth, ...opts.headers }, ...(opts.payload === undefined ? {} : { payload: opts.payload as string }) });

async function counts() {
  const db = t.server.ctx.db;
  const n = async (table: 'lockers' | 'parcels' | 'grants' | 'compartments') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { lockers: await n('lockers'), parcels: await n('parcels'), grants: await n('grants'), compartments: await n('compartments') };
}

describe('HTTP API', () => {
  it('serves health and the public signing keys without a token', async () => {
    expect((await t.server.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const jwks = (await t.server.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kty: string; crv: string; kid: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks.keys[0]?.d).toBeUndefined();
  });

  it('refuses every other route without a valid bearer token (401, UNAUTHENTICATED)', async () => {
    for (const headers of [{ authorization: '' }, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${t.server.adminToken}` }]) {
      const res = await inject({ method: 'GET', url: '/v1/lockers', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('registers a locker and returns its compartments and a single-use enrolment token once', async () => {
    const res = await inject({
      method: 'POST',
      url: '/v1/lockers',
      payload: { name: 'Central', location: { lat: 52.2, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }, { id: 'B1', size: 'L' }] },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.compartments).toEqual([
      { id: 'A1', size: 'S', state: 'free', inService: true, parcelId: null },
      { id: 'B1', size: 'L', state: 'free', inService: true, parcelId: null },
    ]);
    expect(body.enrolment).toMatchObject({ lockerId: body.id });
    expect(body.enrolment.token.length).toBeGreaterThanOrEqual(32);
    expect(body.enrolment.expiresAt).toBeGreaterThan(Date.now());
    const again = (await inject({ method: 'GET', url: `/v1/lockers/${body.id}` })).json();
    expect(again.enrolment).toBeUndefined();
    expect(again.online).toBe(false);
  });

  it('books a parcel into the smallest fitting compartment and returns a drop-off PIN and QR grant', async () => {
    const locker = await registerLocker(t.api, [{ id: 'L1', size: 'L' }, { id: 'S1', size: 'S' }]);
    const res = await inject({ method: 'POST', url: '/v1/parcels', payload: { lockerId: locker.id, size: 'S', recipient: { phone: '+48 600 100 200' }, reference: 'ORDER-1' } });
    expect(res.statusCode).toBe(201);
    const parcel = res.json();
    expect(parcel).toMatchObject({ status: 'booked', compartmentId: 'S1', size: 'S', lockerId: locker.id });
    expect(parcel.dropoff.pin).toMatch(/^\d{8}$/);
    expect(parcel.dropoff.qr.split('.')).toHaveLength(3);
    const view = (await inject({ method: 'GET', url: `/v1/lockers/${locker.id}` })).json();
    expect(view.compartments.find((c: { id: string }) => c.id === 'S1').state).toBe('reserved');
    const read = (await inject({ method: 'GET', url: `/v1/parcels/${parcel.id}` })).json();
    expect(read.history.map((h: { type: string }) => h.type)).toEqual(['booked']);
    expect(JSON.stringify(read)).not.toContain(parcel.dropoff.pin);
  });

  it('finds parcels by the carrier’s reference, and a carrier only its own', async () => {
    const locker = await registerLocker(t.api, [{ id: 'R1', size: 'M' }, { id: 'R2', size: 'M' }]);
    const carrier = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Ref carrier', role: 'carrier' });
    const mine = await fetch(`${t.httpUrl}/v1/parcels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carrier.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lockerId: locker.id, size: 'S', recipient: { email: 'a@b.example' }, reference: 'REF-42' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const other = (await inject({ method: 'POST', url: '/v1/parcels', payload: { lockerId: locker.id, size: 'S', recipient: { email: 'a@b.example' }, reference: 'REF-42' } })).json();
    const all = (await inject({ method: 'GET', url: '/v1/parcels?reference=REF-42' })).json();
    expect(all.items.map((p: { id: string }) => p.id).sort()).toEqual([mine.id, other.id].sort());
    const own = await fetch(`${t.httpUrl}/v1/parcels?reference=REF-42`, { headers: { authorization: `Bearer ${carrier.token}` } }).then((r) => r.json() as Promise<{ items: { id: string }[] }>);
    expect(own.items.map((p) => p.id)).toEqual([mine.id]);
    // Without a reference it lists (issue 16: test/server/listing.test.ts); a bad filter is still refused.
    expect((await inject({ method: 'GET', url: '/v1/parcels?status=lost' })).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('never stores a PIN in clear', async () => {
    const locker = await registerLocker(t.api);
    const parcel = (await inject({ method: 'POST', url: '/v1/parcels', payload: { lockerId: locker.id, size: 'S', recipient: { email: 'a@b.example' }, reference: 'R' } })).json();
    const rows = await t.server.ctx.db.selectFrom('grants').selectAll().where('parcel_id', '=', parcel.id).execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(parcel.dropoff.pin);
  });

  it('answers bad bookings with a stable code and writes nothing', async () => {
    const locker = await registerLocker(t.api, [{ id: 'A1', size: 'S' }]);
    await inject({ method: 'POST', url: '/v1/parcels', payload: { lockerId: locker.id, size: 'S', recipient: { email: 'x@y.example' }, reference: 'FIRST' } });
    const before = await counts();
    const cases: [unknown, number, string][] = [
      [{ lockerId: 'lk_nope', size: 'S', recipient: { email: 'x@y.example' }, reference: 'R' }, 404, 'LOCKER_NOT_FOUND'],
      [{ lockerId: locker.id, size: 'XXL', recipient: { email: 'x@y.example' }, reference: 'R' }, 400, 'VALIDATION_FAILED'],
      [{ lockerId: locker.id, size: 'L', recipient: { email: 'x@y.example' }, reference: 'R' }, 409, 'SIZE_NOT_OFFERED'],
      [{ lockerId: locker.id, size: 'S', recipient: { email: 'x@y.example' }, reference: 'R' }, 409, 'NO_FREE_COMPARTMENT'],
      [{ lockerId: locker.id, size: 'S', recipient: {}, reference: 'R' }, 400, 'VALIDATION_FAILED'],
      [{ lockerId: locker.id, size: 'S', reference: 'R' }, 400, 'VALIDATION_FAILED'],
      [{ lockerId: locker.id, size: 'S', recipient: { email: 'x@y.example' }, reference: 'R', extra: true }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await inject({ method: 'POST', url: '/v1/parcels', payload });
      expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status, code });
    }
    const malformed = await inject({ method: 'POST', url: '/v1/parcels', payload: '{"lockerId": ', headers: { 'content-type': 'application/json' } });
    expect([malformed.statusCode, malformed.json().error.code]).toEqual([400, 'MALFORMED_JSON']);
    const huge = await inject({ method: 'POST', url: '/v1/parcels', payload: JSON.stringify({ reference: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } });
    expect([huge.statusCode, huge.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const text = await inject({ method: 'POST', url: '/v1/parcels', payload: 'hello', headers: { 'content-type': 'text/plain' } });
    expect([text.statusCode, text.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await counts()).toEqual(before);
  });

  it('answers bad locker registrations with a stable code and writes nothing', async () => {
    const before = await counts();
    const cases: [unknown, string][] = [
      [{ name: 'X', location: { lat: 52, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }, { id: 'A1', size: 'M' }] }, 'DUPLICATE_COMPARTMENT'],
      [{ name: 'X', location: { lat: 91, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }] }, 'VALIDATION_FAILED'],
      [{ name: 'X', location: { lat: 52, lon: 21 }, compartments: [] }, 'VALIDATION_FAILED'],
      [{ name: 'X', location: { lat: 52, lon: 21 }, compartments: [{ id: 'A 1', size: 'S' }] }, 'VALIDATION_FAILED'],
      [{ name: '', location: { lat: 52, lon: 21 }, compartments: [{ id: 'A1', size: 'S' }] }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code] of cases) {
      const res = await inject({ method: 'POST', url: '/v1/lockers', payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect(await counts()).toEqual(before);
  });

  it('answers unknown ids and routes with 404 and a code', async () => {
    expect((await inject({ method: 'GET', url: '/v1/lockers/lk_nope' })).json().error.code).toBe('LOCKER_NOT_FOUND');
    expect((await inject({ method: 'GET', url: '/v1/parcels/p_nope' })).json().error.code).toBe('PARCEL_NOT_FOUND');
    expect((await inject({ method: 'GET', url: '/v1/parcels/p_nope/notifications' })).json().error.code).toBe('PARCEL_NOT_FOUND');
    const res = await inject({ method: 'GET', url: '/v1/nothing-here' });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });
});
