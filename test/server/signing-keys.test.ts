import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { PublicJwk, StateChange } from '../../shared/messages.js';
import { makeConfig } from '../../server/config.js';
import { createServer } from '../../server/create-server.js';
import { maintainKeys } from '../../server/keys/key-rotation.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { call, createAccount } from '../security/api-helpers.js';

interface KeyView {
  kid: string;
  status: 'next' | 'active' | 'previous' | 'retired';
  liveGrants: number;
  pendingLockers: number | null;
}

const DAY = 24 * 3600_000;
let t: TestServer;
let clock: ManualClock;
let admin: string;

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  t = await startTestServer({ keyActivationGraceSec: 3600 }, clock);
  admin = t.server.adminToken;
});
afterAll(() => t.close());

const keys = async () => (await call(t, admin, 'GET', '/v1/admin/keys')).body.keys as KeyView[];
const jwks = async () => ((await call(t, undefined, 'GET', '/.well-known/jwks.json')).body.keys as PublicJwk[]).map((k) => k.kid).sort();
const status = async () => Object.fromEntries((await keys()).map((k) => [k.kid, k.status]));
const rotate = () => call(t, admin, 'POST', '/v1/admin/keys/rotate');
const lockerIds: string[] = [];

async function newLocker(): Promise<string> {
  const res = await call(t, admin, 'POST', '/v1/lockers', { name: 'K', location: { lat: 1, lon: 2 }, compartments: ['A1', 'A2', 'A3', 'A4'].map((id) => ({ id, size: 'S' })) });
  lockerIds.push(res.body.id as string);
  return res.body.id as string;
}

async function bookKid(lockerId: string): Promise<string> {
  const res = await call(t, admin, 'POST', '/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'K' });
  expect(res.status).toBe(201);
  return String(decodeProtectedHeader((res.body.dropoff as { qr: string }).qr).kid);
}

/** The locker applied (and was heard reporting) every desired-state version it has. */
async function reportAll(lockerId: string, upTo?: number): Promise<void> {
  const db = t.server.ctx.db;
  const { desired_version } = await db.selectFrom('lockers').select('desired_version').where('id', '=', lockerId).executeTakeFirstOrThrow();
  await db.updateTable('lockers').set({ reported_version: upTo ?? desired_version, last_seen_at: clock.now() }).where('id', '=', lockerId).execute();
}

async function lastKeySet(lockerId: string): Promise<string[]> {
  const rows = await t.server.ctx.db.selectFrom('desired_changes').select('changes').where('locker_id', '=', lockerId).orderBy('version', 'desc').execute();
  for (const r of rows) {
    const set = (JSON.parse(r.changes) as StateChange[]).find((c) => c.op === 'keys.set');
    if (set && set.op === 'keys.set') return set.keys.map((k) => k.kid).sort();
  }
  return [];
}

describe('grant-signing keys and their rotation', () => {
  let first: string;
  let second: string;

  it('start with one active key, private in a 0600 file in a 0700 folder, served as the JWKS', async () => {
    const list = await keys();
    expect(list).toHaveLength(1);
    first = list[0]?.kid ?? '';
    expect(list[0]).toMatchObject({ status: 'active', pendingLockers: null });
    expect(await jwks()).toEqual([first]);
    const dir = path.join(t.dir, 'keys');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, `signing-${first}.json`)).mode & 0o777).toBe(0o600);
  });

  it('a rotation sends the next key to every locker before it signs anything, and the JWKS lists it', async () => {
    const seen = await newLocker();
    await reportAll(seen);
    const neverSeen = await newLocker();
    const res = await rotate();
    expect(res.status).toBe(201);
    second = res.body.kid as string;
    expect(res.body).toMatchObject({ status: 'next', liveGrants: 0, pendingLockers: 1 });
    expect(await jwks()).toEqual([first, second].sort());
    for (const id of [seen, neverSeen]) expect(await lastKeySet(id)).toEqual([first, second].sort());
    expect(statSync(path.join(t.dir, 'keys', `signing-${second}.json`)).mode & 0o777).toBe(0o600);
    // Not signing yet.
    expect(await bookKid(seen)).toBe(first);
    // One rotation at a time.
    expect([(await rotate()).status, (await rotate()).body.error]).toMatchObject([409, { code: 'KEY_ROTATION_IN_PROGRESS' }]);
  });

  it('signs with the next key once every locker heard from reported the version that carried it', async () => {
    const [seen] = lockerIds as [string];
    await maintainKeys(t.server.ctx);
    expect((await status())[second]).toBe('next');
    // A report of an older version is not enough.
    const delivered = await t.server.ctx.db.selectFrom('key_deliveries').select('version').where('kid', '=', second).where('locker_id', '=', seen).executeTakeFirstOrThrow();
    await reportAll(seen, delivered.version - 1);
    await maintainKeys(t.server.ctx);
    expect((await status())[second]).toBe('next');
    await reportAll(seen, delivered.version);
    await maintainKeys(t.server.ctx);
    // The locker that was never heard from does not hold it up: its first snapshot carries every key.
    expect(await status()).toEqual({ [first]: 'previous', [second]: 'active' });
    expect(await bookKid(seen)).toBe(second);
    // The old key signed grants that are still live: it stays in the JWKS and on the lockers.
    expect(await jwks()).toEqual([first, second].sort());
    expect((await keys()).find((k) => k.kid === first)?.liveGrants).toBe(2);
  });

  it('activates at the end of the grace period when a locker does not report', async () => {
    const [seen] = lockerIds as [string];
    const third = (await rotate()).body.kid as string;
    await maintainKeys(t.server.ctx);
    expect((await status())[third]).toBe('next');
    clock.set(clock.now() + 3600_000);
    await maintainKeys(t.server.ctx);
    expect((await status())[third]).toBe('active');
    expect(await bookKid(seen)).toBe(third);
    const audit = (await call(t, admin, 'GET', '/v1/audit?action=key.activate')).body.items as { actor: string; subject: string; reason: string }[];
    expect(audit[0]).toMatchObject({ actor: 'system', subject: third });
    expect(audit[0]?.reason).toMatch(/grace period/);
  });

  it('retires a key once its last grant has expired: out of the JWKS and the lockers, private key deleted', async () => {
    const before = await status();
    expect(before[first]).toBe('previous');
    // The grants of the first key expire after their deposit and pickup windows (3 + 3 days) and the tolerance.
    clock.set(clock.now() + 7 * DAY);
    await maintainKeys(t.server.ctx);
    const after = await status();
    expect(after[first]).toBe('retired');
    // The second key's grants expired too.
    expect(after[second]).toBe('retired');
    const live = Object.entries(after).filter(([, s]) => s !== 'retired').map(([kid]) => kid).sort();
    expect(await jwks()).toEqual(live);
    for (const id of lockerIds) expect(await lastKeySet(id)).toEqual(live);
    expect(existsSync(path.join(t.dir, 'keys', `signing-${first}.json`))).toBe(false);
    expect(readdirSync(path.join(t.dir, 'keys')).sort()).toEqual(live.map((kid) => `signing-${kid}.json`).sort());
  });

  it('refuses to retire the active key, activates only a next key, and answers unknown kids with 404', async () => {
    const active = (await keys()).find((k) => k.status === 'active')?.kid ?? '';
    const r1 = await call(t, admin, 'POST', `/v1/admin/keys/${active}/retire`);
    expect([r1.status, r1.body.error?.code]).toEqual([409, 'KEY_ACTIVE']);
    const r2 = await call(t, admin, 'POST', `/v1/admin/keys/${active}/activate`);
    expect([r2.status, r2.body.error?.code]).toEqual([409, 'KEY_NOT_NEXT']);
    const r3 = await call(t, admin, 'POST', '/v1/admin/keys/nope/retire');
    expect([r3.status, r3.body.error?.code]).toEqual([404, 'KEY_NOT_FOUND']);
    // A next key can be activated at once by an admin (an emergency), or retired (a rotation called off).
    const next = (await rotate()).body.kid as string;
    const activated = await call(t, admin, 'POST', `/v1/admin/keys/${next}/activate`);
    expect(activated.body).toMatchObject({ kid: next, status: 'active' });
    const again = (await rotate()).body.kid as string;
    const retired = await call(t, admin, 'POST', `/v1/admin/keys/${again}/retire`);
    expect(retired.body).toMatchObject({ kid: again, status: 'retired' });
    expect(await jwks()).not.toContain(again);
  });

  it('key routes are for admins only', async () => {
    const operator = await createAccount(t, 'operator');
    const carrier = await createAccount(t, 'carrier');
    for (const [method, url] of [
      ['GET', '/v1/admin/keys'],
      ['POST', '/v1/admin/keys/rotate'],
      ['POST', '/v1/admin/keys/x/activate'],
      ['POST', '/v1/admin/keys/x/retire'],
      ['GET', '/v1/audit'],
    ] as const) {
      expect((await call(t, undefined, method, url)).status, url).toBe(401);
      for (const token of [operator.token, carrier.token]) {
        const res = await call(t, token, method, url);
        expect([res.status, res.body.error?.code], url).toEqual([403, 'FORBIDDEN']);
      }
    }
  });

  it('keeps the key states across a restart, and takes over a data folder from before key states', async () => {
    const states = await status();
    const config = makeConfig({ port: 0, mqttPort: 0, dataDir: t.dir + '-restart', logLevel: 'silent' });
    let s = await createServer(config, { clock });
    const original = s.ctx.keys.active.kid;
    await s.stop();
    s = await createServer(config, { clock });
    expect(s.ctx.keys.active.kid).toBe(original);
    // A data folder from before: key files, no states. The key is taken over as the active one.
    await s.ctx.db.deleteFrom('signing_keys').execute();
    await s.stop();
    s = await createServer(config, { clock });
    expect(s.ctx.keys.active.kid).toBe(original);
    await s.stop();
    rmSync(config.dataDir, { recursive: true, force: true });
    expect(await status()).toEqual(states);
  });
});
