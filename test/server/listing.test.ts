import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { call, createAccount, type CreatedAccount } from '../security/api-helpers.js';
import { insertFleet, type BulkLocker } from '../dashboard/bulk-fleet.js';
import { raiseAlarm } from '../../server/alarms/raise-alarm.js';
import type { LockerListItem } from '../../shared/api/fleet-listing.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import type { AlarmView } from '../../shared/api/alarms.js';

const FLEET = 1200;
let t: TestServer;
let fleet: BulkLocker[];
let admin: string;
let operator: CreatedAccount;
const NOW = Date.now();

interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/** Follows nextCursor from the first page to the last; every page must answer 200. */
async function walk<T>(token: string, url: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await call(t, token, 'GET', `${url}${url.includes('?') ? '&' : '?'}${cursor ? `cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body as unknown as PageOf<T>;
    out.push(...page.items);
    cursor = page.nextCursor;
    expect(++pages).toBeLessThan(1000);
  } while (cursor);
  return out;
}

beforeAll(async () => {
  // The bulk lockers were never heard from: no offline alarms for them in this test.
  t = await startTestServer({ lockerOfflineAlarmSec: 7 * 86_400 });
  admin = t.server.adminToken;
  operator = await createAccount(t, 'operator', 'listing operator');
  const started = Date.now();
  fleet = await insertFleet(t.server.ctx.db, FLEET, NOW);
  expect(Date.now() - started, 'the bulk insert to be quick').toBeLessThan(10_000);
  // Some lockers fuller than others (the rollup triggers follow compartments), some with alarms.
  const db = t.server.ctx.db;
  for (let i = 0; i < 40; i++) {
    const l = fleet[i * 17]!;
    for (const c of ['A1', 'A2', 'B1', 'C1'].slice(0, 1 + (i % 4))) {
      await db.updateTable('compartments').set({ parcel_id: `p_fake${i}${c}` }).where('locker_id', '=', l.id).where('id', '=', c).execute();
    }
  }
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < 30; i++) {
      for (let k = 0; k <= i % 3; k++) await raiseAlarm(trx, { lockerId: fleet[i * 23]!.id, compartmentId: `A${k}`, kind: k === 0 ? 'forced_open' : 'lock_jam', at: NOW - i * 60_000 });
    }
  });
}, 60_000);
afterAll(() => t.close());

describe('GET /v1/lockers: keyset pages at fleet size', () => {
  it('honours limit, and refuses one above the maximum with a coded error instead of ignoring it', async () => {
    const two = await call(t, operator.token, 'GET', '/v1/lockers?limit=2');
    expect(two.status).toBe(200);
    expect((two.body.items as unknown[]).length).toBe(2);
    expect(two.body.nextCursor).toEqual(expect.any(String));
    const over = await call(t, operator.token, 'GET', '/v1/lockers?limit=501');
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'LIMIT_TOO_LARGE', details: { max: 500 } });
    expect((await call(t, operator.token, 'GET', '/v1/lockers?limit=0')).body.error?.code).toBe('VALIDATION_FAILED');
    expect((await call(t, operator.token, 'GET', '/v1/lockers?sort=colour')).body.error?.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a cursor it did not make, or one made for another sort', async () => {
    expect((await call(t, admin, 'GET', '/v1/lockers?cursor=bm9wZQ')).body.error?.code).toBe('CURSOR_INVALID');
    const byName = await call(t, admin, 'GET', '/v1/lockers?limit=5');
    const cursor = byName.body.nextCursor as string;
    expect((await call(t, admin, 'GET', `/v1/lockers?limit=5&sort=occupancy&cursor=${cursor}`)).body.error?.code).toBe('CURSOR_INVALID');
    expect((await call(t, admin, 'GET', `/v1/lockers?limit=5&state=offline&cursor=${cursor}`)).body.error?.code).toBe('CURSOR_INVALID');
  });

  const sorts: { sort: string; key: (l: LockerListItem) => number | string }[] = [
    { sort: 'name', key: (l) => l.name },
    { sort: 'state', key: (l) => (l.online ? 1 : 0) },
    { sort: 'occupancy', key: (l) => Math.floor((l.occupancy.inUse * 1000) / Math.max(1, l.occupancy.total)) },
    { sort: 'last_seen', key: (l) => l.lastSeenAt ?? -1 },
    { sort: 'open_alarms', key: (l) => l.alarms.open + l.alarms.acknowledged },
  ];
  for (const { sort, key } of sorts) {
    for (const order of ['asc', 'desc'] as const) {
      it(`walks every locker once by ${sort} ${order}, in order, with no duplicates or gaps`, async () => {
        const all = await walk<LockerListItem>(operator.token, `/v1/lockers?limit=500&sort=${sort}&order=${order}`);
        expect(all.length).toBe(FLEET);
        expect(new Set(all.map((l) => l.id)).size).toBe(FLEET);
        const cmp = (a: LockerListItem, b: LockerListItem) => {
          const ka = key(a);
          const kb = key(b);
          const c = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
          return order === 'asc' ? c : -c;
        };
        expect(all.map((l) => l.id)).toEqual([...all].sort(cmp).map((l) => l.id));
      });
    }
  }

  it('the rollups follow the compartments and alarms: the fullest and the most alarmed come first', async () => {
    const fullest = (await call(t, admin, 'GET', '/v1/lockers?sort=occupancy&order=desc&limit=10')).body.items as LockerListItem[];
    expect(fullest.map((l) => l.occupancy.inUse)).toEqual(Array(10).fill(4));
    expect(fullest[0]!.occupancy).toMatchObject({ inUse: 4, total: 4, outOfService: 0 });
    const alarmed = (await call(t, admin, 'GET', '/v1/lockers?sort=open_alarms&order=desc&limit=3')).body.items as LockerListItem[];
    expect(alarmed.map((l) => l.alarms.open)).toEqual([3, 3, 3]);
  });

  it('filters by state, name prefix and search, and pages the filtered set', async () => {
    const offline = await walk<LockerListItem>(admin, '/v1/lockers?state=offline&limit=100');
    expect(offline.length).toBe(fleet.filter((l) => !l.online).length);
    expect(offline.every((l) => l.state === 'offline')).toBe(true);
    const alarmed = await walk<LockerListItem>(admin, '/v1/lockers?state=alarm');
    expect(alarmed.length).toBe(30);
    const prefixed = await walk<LockerListItem>(admin, '/v1/lockers?name=Bulk%200001&limit=7');
    expect(prefixed.map((l) => l.name)).toEqual(fleet.map((l) => l.name).filter((n) => n.startsWith('Bulk 0001')).sort());
    const searched = await walk<LockerListItem>(admin, '/v1/lockers?q=ulk%2000111');
    expect(searched.map((l) => l.name)).toEqual(['Bulk 001110', 'Bulk 001111', 'Bulk 001112', 'Bulk 001113', 'Bulk 001114', 'Bulk 001115', 'Bulk 001116', 'Bulk 001117', 'Bulk 001118', 'Bulk 001119'].filter((n) => fleet.some((l) => l.name === n)));
    expect((await walk<LockerListItem>(admin, `/v1/lockers?q=${fleet[5]!.id}`)).map((l) => l.id)).toEqual([fleet[5]!.id]);
  });

  it('exports the filtered fleet as CSV, every matching locker once, streamed', async () => {
    const res = await t.server.app.inject({ url: '/v1/lockers/export.csv?state=offline&sort=last_seen', headers: { authorization: `Bearer ${operator.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('id,name,state,lat,lon,last_seen,compartments,in_use,out_of_service,unresolved_alarms');
    expect(lines.length - 1).toBe(fleet.filter((l) => !l.online).length);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(lines.length - 1);
    expect((await call(t, undefined, 'GET', '/v1/lockers/export.csv')).status).toBe(401);
  });
});

describe('GET /v1/parcels: a carrier lists its own, operators all', () => {
  let carrierA: CreatedAccount;
  let carrierB: CreatedAccount;
  let booked: ParcelView[];
  let lockerIds: string[];

  beforeAll(async () => {
    carrierA = await createAccount(t, 'carrier', 'carrier A');
    carrierB = await createAccount(t, 'carrier', 'carrier B');
    const lockers = [await registerLocker(t.api, ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'].map((id) => ({ id, size: 'M' as const }))), await registerLocker(t.api, ['B1', 'B2', 'B3', 'B4'].map((id) => ({ id, size: 'M' as const })))];
    lockerIds = lockers.map((l) => l.id);
    booked = [];
    for (let i = 0; i < 9; i++) {
      const who = i % 3 === 2 ? carrierB : carrierA;
      const res = await call(t, who.token, 'POST', '/v1/parcels', { lockerId: lockerIds[i % 2], size: 'S', recipient: { email: 'r@x.example' }, reference: `${who === carrierA ? 'ACME' : 'ZED'}-${i}` });
      expect(res.status).toBe(201);
      booked.push(res.body as unknown as ParcelView);
    }
    await call(t, carrierA.token, 'POST', `/v1/parcels/${booked[0]!.id}/cancel`);
  });

  it('a carrier walks only its own parcels, newest first; an operator sees every carrier’s', async () => {
    const mine = await walk<ParcelView>(carrierA.token, '/v1/parcels?limit=2');
    const expected = booked.filter((_, i) => i % 3 !== 2).map((p) => p.id);
    expect(mine.map((p) => p.id).sort()).toEqual([...expected].sort());
    expect(new Set(mine.map((p) => p.id)).size).toBe(mine.length);
    for (let i = 1; i < mine.length; i++) expect(mine[i - 1]!.createdAt).toBeGreaterThanOrEqual(mine[i]!.createdAt);
    const theirs = await walk<ParcelView>(carrierB.token, '/v1/parcels?limit=1');
    expect(theirs.map((p) => p.reference).every((r) => r.startsWith('ZED-'))).toBe(true);
    expect(theirs.length).toBe(3);
    const all = await walk<ParcelView>(operator.token, '/v1/parcels?limit=4');
    expect(all.length).toBe(9);
    // Another carrier's parcel by its exact reference: not found in the list either.
    expect((await call(t, carrierB.token, 'GET', '/v1/parcels?reference=ACME-0')).body.items).toEqual([]);
  });

  it('filters by status, locker, reference (exact and prefix) and creation time', async () => {
    expect((await walk<ParcelView>(operator.token, '/v1/parcels?status=cancelled')).map((p) => p.id)).toEqual([booked[0]!.id]);
    expect((await walk<ParcelView>(operator.token, `/v1/parcels?lockerId=${lockerIds[1]}`)).length).toBe(4);
    expect((await walk<ParcelView>(operator.token, '/v1/parcels?reference=ZED-5')).map((p) => p.id)).toEqual([booked[5]!.id]);
    expect((await walk<ParcelView>(carrierA.token, '/v1/parcels?referencePrefix=ACME-')).length).toBe(6);
    expect((await walk<ParcelView>(carrierA.token, '/v1/parcels?referencePrefix=ZED')).length).toBe(0);
    const mid = booked[4]!.createdAt;
    const after = await walk<ParcelView>(operator.token, `/v1/parcels?createdFrom=${mid}`);
    expect(after.every((p) => p.createdAt >= mid)).toBe(true);
    const before = await walk<ParcelView>(operator.token, `/v1/parcels?createdTo=${mid}`);
    expect(after.length + before.length).toBe(9);
    expect((await call(t, operator.token, 'GET', '/v1/parcels?limit=501')).body.error?.code).toBe('LIMIT_TOO_LARGE');
    expect((await call(t, operator.token, 'GET', '/v1/parcels?status=lost')).body.error?.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /v1/alarms: pages, filters and severity', () => {
  it('walks every alarm once, most recent first, and filters by kind, state, severity and age', async () => {
    const all = await walk<AlarmView>(operator.token, '/v1/alarms?limit=7');
    expect(all.length).toBe(60);
    expect(new Set(all.map((a) => a.id)).size).toBe(60);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.lastAt).toBeGreaterThanOrEqual(all[i]!.lastAt);
    const critical = await walk<AlarmView>(operator.token, '/v1/alarms?severity=critical');
    expect(critical.length).toBe(30);
    expect(critical.every((a) => a.kind === 'forced_open' && a.severity === 'critical')).toBe(true);
    expect((await walk<AlarmView>(operator.token, '/v1/alarms?kind=lock_jam&severity=warning')).length).toBe(30);
    const old = await walk<AlarmView>(operator.token, `/v1/alarms?firstBefore=${NOW - 10 * 60_000}`);
    expect(old.every((a) => a.firstAt < NOW - 10 * 60_000)).toBe(true);
    expect(old.length).toBeGreaterThan(0);
    expect((await call(t, operator.token, 'GET', '/v1/alarms?limit=1001')).body.error?.code).toBe('LIMIT_TOO_LARGE');
  });
});
