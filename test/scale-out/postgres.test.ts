import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../shared/codec.js';
import type { EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { handleDeviceMessage } from '../../server/sync/device-router.js';
import { holdLease, leaseHolder } from '../../server/store/leases.js';
import { SCHEDULER_LEASE } from '../../server/scheduler.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { createAccount } from '../security/api-helpers.js';
import { WebhookReceiver } from '../webhooks/receiver.js';
import { ApiClient, ApiError } from '../../client/http-client.js';

/** Two server instances of one deployment: one Postgres database, one data folder (secrets, keys). */
let pg: TestPostgres;
let dir: string;
let a: TestServer;
let b: TestServer;
const closed = new Set<TestServer>();

beforeAll(async () => {
  pg = await startPostgres();
  const databaseUrl = await pg.createDatabase();
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-pg-servers-'));
  // The first start makes the secrets and runs the migrations; the second finds both.
  a = await startTestServer({ databaseUrl, instanceId: 'server-a', webhookPollMs: 20 }, undefined, undefined, { dir });
  b = await startTestServer({ databaseUrl, instanceId: 'server-b', webhookPollMs: 20 }, undefined, undefined, { dir });
}, 60_000);

afterAll(async () => {
  for (const s of [a, b]) if (s && !closed.has(s)) await s.close();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Postgres: several server processes on one database', () => {
  it('never puts two parcels in one compartment when two servers book into one locker at once', async () => {
    const locker = await registerLocker(a.api, [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'A3', size: 'S' },
    ]);
    const attempts = 12;
    const results = await Promise.allSettled(
      Array.from({ length: attempts }, (_, i) =>
        (i % 2 ? b : a).api.post<{ id: string; compartmentId: string }>('/v1/parcels', {
          lockerId: locker.id,
          size: 'S',
          recipient: { email: 'r@x.example' },
          reference: `RACE-${i}`,
        }),
      ),
    );
    const booked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    // Every compartment was taken (a booking that lost a race took the next one), and only once.
    expect(booked).toHaveLength(3);
    expect(new Set(booked.map((p) => p.compartmentId))).toEqual(new Set(['A1', 'A2', 'A3']));
    expect(refused).toHaveLength(attempts - 3);
    for (const err of refused) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('NO_FREE_COMPARTMENT');
    }
    const rows = await a.server.ctx.db.selectFrom('compartments').select(['id', 'parcel_id']).where('locker_id', '=', locker.id).execute();
    expect(rows.map((r) => r.parcel_id).sort()).toEqual(booked.map((p) => p.id).sort());
    const parcels = await a.server.ctx.db.selectFrom('parcels').select('id').where('locker_id', '=', locker.id).execute();
    expect(parcels).toHaveLength(3);
  });

  it('applies a device event once when the same batch reaches both servers at the same time', async () => {
    const locker = await registerLocker(a.api, [{ id: 'A1', size: 'S' }]);
    const parcel = await a.api.post<{ id: string; compartmentId: string }>('/v1/parcels', {
      lockerId: locker.id,
      size: 'S',
      recipient: { email: 'r@x.example' },
      reference: 'ONCE-1',
    });
    const grant = await a.server.ctx.db
      .selectFrom('grants')
      .select('jti')
      .where('parcel_id', '=', parcel.id)
      .where('action', '=', 'deposit')
      .executeTakeFirstOrThrow();
    const at = Date.now();
    const base = { bootId: 'boot1', at, compartmentId: 'A1' };
    const batch: EventBatchMessage = {
      v: PROTOCOL_VERSION,
      events: [
        { ...base, seq: 1, id: 'ev1', type: 'code.accepted', jti: grant.jti, parcelId: parcel.id, action: 'deposit', via: 'keypad' },
        { ...base, seq: 2, id: 'ev2', type: 'door.opened' },
        { ...base, seq: 3, id: 'ev3', type: 'parcel.deposited', jti: grant.jti, parcelId: parcel.id },
        { ...base, seq: 4, id: 'ev4', type: 'door.closed' },
      ],
    };
    const payload = encode(batch);
    const before = a.server.stats.eventsApplied + b.server.stats.eventsApplied;
    // The broker delivered the batch twice (a redelivery), once to each process, at the same moment; and again.
    await Promise.all([
      handleDeviceMessage(a.server.ctx, topics.events(locker.id), payload),
      handleDeviceMessage(b.server.ctx, topics.events(locker.id), payload),
      handleDeviceMessage(b.server.ctx, topics.events(locker.id), payload),
    ]);
    expect(a.server.stats.eventsApplied + b.server.stats.eventsApplied - before).toBe(4);
    const events = await a.server.ctx.db.selectFrom('device_events').select('seq').where('locker_id', '=', locker.id).execute();
    expect(events.map((e) => e.seq).sort()).toEqual([1, 2, 3, 4]);
    const history = await a.server.ctx.db.selectFrom('parcel_history').select('type').where('parcel_id', '=', parcel.id).orderBy('id').execute();
    expect(history.map((h) => h.type)).toEqual(['booked', 'deposited']);
    const read = await b.api.get<{ status: string }>(`/v1/parcels/${parcel.id}`);
    expect(read.status).toBe('in_locker');
  });

  it('counts desired-state versions without a gap or a repeat when both servers change one locker at once', async () => {
    const locker = await registerLocker(a.api, [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'A3', size: 'M' },
      { id: 'A4', size: 'M' },
    ]);
    const start = (await a.api.get<{ desiredVersion: number }>(`/v1/lockers/${locker.id}`)).desiredVersion;
    await Promise.all(
      ['A1', 'A2', 'A3', 'A4'].map((id, i) => (i % 2 ? b : a).api.post(`/v1/lockers/${locker.id}/commands`, { type: 'set_service', compartmentId: id, inService: false, reason: 'race test' })),
    );
    const versions = await a.server.ctx.db.selectFrom('desired_changes').select('version').where('locker_id', '=', locker.id).where('version', '>', start).execute();
    expect(versions.map((v) => v.version).sort((x, y) => x - y)).toEqual([start + 1, start + 2, start + 3, start + 4]);
  });

  it('sends each webhook delivery once, in order, while both servers\' workers poll the outbox', async () => {
    const receiver = await new WebhookReceiver().listen();
    try {
      const carrier = await createAccount(a, 'carrier');
      const set = await a.server.app.inject({ method: 'PUT', url: '/v1/me/webhook', headers: { authorization: `Bearer ${carrier.token}` }, payload: { url: `${receiver.url}/hook` } });
      expect(set.statusCode).toBe(200);
      const locker = await registerLocker(a.api, Array.from({ length: 8 }, (_, i) => ({ id: `S${i}`, size: 'S' })));
      const api = new ApiClient([a.httpUrl, b.httpUrl], carrier.token);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await api.post<{ id: string }>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: `HOOK-${i}` })).id);
      await expect.poll(() => receiver.on('/hook').length >= ids.length, { message: 'every booking delivered' }).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      const got = receiver.on('/hook');
      expect(got).toHaveLength(ids.length);
      expect(new Set(got.map((r) => r.json.id)).size).toBe(ids.length);
      expect(got.map((r) => (r.json.data.parcel as { id: string }).id)).toEqual(ids);
    } finally {
      await receiver.close();
    }
  });

  it('answers every read route from Postgres (the queries are portable)', async () => {
    const locker = await registerLocker(a.api, [{ id: 'A1', size: 'S' }]);
    const parcel = await b.api.post<{ id: string }>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'READ-1' });
    const urls = [
      '/v1/lockers',
      `/v1/lockers/${locker.id}`,
      `/v1/lockers/${locker.id}/events`,
      `/v1/lockers/${locker.id}/commands`,
      '/v1/parcels?reference=READ-1',
      // Listings and history (migration 017's indexes, rollups and triggers on Postgres):
      '/v1/lockers?sort=occupancy&order=desc&limit=1',
      '/v1/lockers?sort=last_seen&state=alarm',
      '/v1/lockers?sort=open_alarms&q=scale',
      '/v1/lockers/export.csv?sort=state',
      '/v1/parcels?referencePrefix=READ&status=booked&createdFrom=1',
      '/v1/alarms?severity=warning&limit=5',
      `/v1/history?lockerId=${locker.id}`,
      '/v1/history',
      `/v1/parcels/${parcel.id}`,
      `/v1/parcels/${parcel.id}/timeline`,
      `/v1/parcels/${parcel.id}/notifications`,
      '/v1/fleet',
      '/v1/alarms',
      '/v1/audit',
      '/v1/accounts',
      '/v1/admin/keys',
      '/v1/webhooks/deliveries',
      '/metrics',
      '/readyz',
    ];
    for (const server of [a, b]) {
      for (const url of urls) {
        const res = await server.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${server.server.adminToken}` } });
        expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
      }
    }
  });

  it('a key rotated through one server is served by the other too (shared keys folder, reloaded each tick)', async () => {
    const rotated = await a.api.post<{ kid: string }>('/v1/admin/keys/rotate', {});
    const kids = async (server: TestServer) => {
      const res = await server.server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      return (res.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    };
    expect(await kids(a)).toContain(rotated.kid);
    await expect.poll(async () => (await kids(b)).includes(rotated.kid), { timeout: 10_000, message: 'the other server to load the new key' }).toBe(true);
  });

  it('runs the scheduler in one process at a time, and the other takes over when it stops', async () => {
    const db = a.server.ctx.db;
    await expect.poll(async () => (await leaseHolder(db, SCHEDULER_LEASE, Date.now())) !== undefined, { message: 'a scheduler lease holder' }).toBe(true);
    const first = await leaseHolder(db, SCHEDULER_LEASE, Date.now());
    const [holder, other] = first === 'server-a' ? [a, b] : [b, a];
    expect(first).toBe(holder.server.ctx.instanceId);
    // While it renews, the other cannot take it.
    expect(await holdLease(db, SCHEDULER_LEASE, other.server.ctx.instanceId, Date.now(), 10_000)).toBe(false);
    await holder.close();
    closed.add(holder);
    const otherDb = other.server.ctx.db;
    await expect.poll(async () => (await leaseHolder(otherDb, SCHEDULER_LEASE, Date.now())) === other.server.ctx.instanceId, { timeout: 10_000, message: 'the other server to take the lease' }).toBe(true);
  });

  it('takes over a lease whose holder vanished only after it expired', async () => {
    const db = (closed.has(a) ? b : a).server.ctx.db;
    const t0 = 1_000_000;
    expect(await holdLease(db, 'test-lease', 'dead', t0, 5000)).toBe(true);
    expect(await holdLease(db, 'test-lease', 'alive', t0 + 4999, 5000)).toBe(false);
    expect(await holdLease(db, 'test-lease', 'dead', t0 + 4000, 5000)).toBe(true);
    expect(await holdLease(db, 'test-lease', 'alive', t0 + 8999, 5000)).toBe(false);
    expect(await holdLease(db, 'test-lease', 'alive', t0 + 9000, 5000)).toBe(true);
    const racers = await Promise.all(['x', 'y', 'z'].map((h) => holdLease(db, 'test-lease-2', h, t0, 5000)));
    expect(racers.filter(Boolean)).toHaveLength(1);
  });
});
