import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFingerprint } from '../../server/http/idempotency-rules.js';
import { claimKey } from '../../server/http/idempotency-store.js';
import { startTwoServersOnPostgres, type TwoServers } from '../helpers/two-servers-on-postgres.js';
import { registerLocker } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from '../security/api-helpers.js';

let s: TwoServers;
let carrier: CreatedAccount;
let lockerId: string;

beforeAll(async () => {
  s = await startTwoServersOnPostgres('idempotency');
  carrier = await createAccount(s.a, 'carrier', 'carrier on postgres');
  lockerId = (await registerLocker(s.a.api, Array.from({ length: 6 }, (_, i) => ({ id: `A${i + 1}`, size: 'S' })))).id;
}, 60_000);
afterAll(() => s?.close());

const booking = (reference: string) => ({ lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference });
const post = (server: TwoServers['a'], payload: object, key: string) =>
  server.server.app.inject({ method: 'POST', url: '/v1/parcels', headers: { authorization: `Bearer ${carrier.token}`, 'idempotency-key': key }, payload });
const parcelsWith = async (reference: string) => (await s.a.server.ctx.db.selectFrom('parcels').select('id').where('reference', '=', reference).execute()).length;

describe('Idempotency-Key across server processes (Postgres)', () => {
  it('a retry that fails over to the other process gets the first answer', async () => {
    const first = await post(s.a, booking('PG-1'), 'pg-key-1');
    expect(first.statusCode).toBe(201);
    const again = await post(s.b, booking('PG-1'), 'pg-key-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(await parcelsWith('PG-1')).toBe(1);
  });

  it('a key in flight on one process is 409 on the other; another body is 422 there', async () => {
    const body = booking('PG-2');
    await claimKey(s.a.server.ctx.db, { account: `carrier:${carrier.id}`, key: 'pg-key-2' }, requestFingerprint('POST', '/v1/parcels', body), Date.now());
    const res = await post(s.b, body, 'pg-key-2');
    expect(res.statusCode).toBe(409);
    expect((res.json() as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    const reused = await post(s.b, booking('PG-2x'), 'pg-key-2');
    expect((reused.json() as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await parcelsWith('PG-2')).toBe(0);
  });

  it('the same key sent to both processes at once books once', async () => {
    const results = await Promise.all([post(s.a, booking('PG-3'), 'pg-key-3'), post(s.b, booking('PG-3'), 'pg-key-3'), post(s.a, booking('PG-3'), 'pg-key-3')]);
    expect(await parcelsWith('PG-3')).toBe(1);
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
  });
});
