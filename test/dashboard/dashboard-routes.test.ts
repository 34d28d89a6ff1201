import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../shared/codec.js';
import { topics } from '../../shared/topics.js';
import type { EventBatchMessage } from '../../shared/messages.js';
import { ApiClient } from '../../client/http-client.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

type EventPage = { events: { seq: number; type: string; compartmentId?: string; reason?: string }[]; nextBefore: number | null };

let t: TestServer;
let lockerId: string;
let carrier: ApiClient;
beforeAll(async () => {
  t = await startTestServer();
  lockerId = (await registerLocker(t.api)).id;
  carrier = new ApiClient(t.httpUrl, (await t.api.post<{ token: string }>('/v1/accounts', { name: 'Carrier', role: 'carrier' })).token);
});
afterAll(async () => {
  await t?.close();
});

describe('the dashboard pages', () => {
  it('are public static files with a strict content security policy; they carry no data', async () => {
    const page = await fetch(`${t.httpUrl}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).not.toContain(lockerId);
    const script = await fetch(`${t.httpUrl}/dashboard/js/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${t.httpUrl}/dashboard/js/app.js`, { headers: { 'if-none-match': script.headers.get('etag')! } })).status).toBe(304);
    const redirect = await fetch(`${t.httpUrl}/dashboard`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/dashboard/']);
  });

  it('serve nothing outside the public folder', async () => {
    for (const path of ['/dashboard/nope.js', '/dashboard/..%2f..%2fconfig.ts', '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/js/../../dashboard-routes.ts']) {
      const res = await fetch(`${t.httpUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
    }
  });
});

describe('GET /v1/fleet', () => {
  it('gives operators every locker with occupancy per size and the totals; nobody else', async () => {
    await t.api.post('/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'FLEET-1' });
    const fleet = await t.api.get<{ totals: unknown; lockers: unknown[] }>('/v1/fleet');
    expect(fleet.lockers).toEqual([
      expect.objectContaining({
        id: lockerId,
        online: false,
        occupancy: { S: { free: 0, reserved: 1, occupied: 0, out_of_service: 0 }, M: { free: 1, reserved: 0, occupied: 0, out_of_service: 0 } },
        alarms: { open: 0, acknowledged: 0 },
      }),
    ]);
    expect(fleet.totals).toEqual({ lockers: 1, online: 0, offline: 1, compartments: { free: 1, reserved: 1, occupied: 0, out_of_service: 0 }, alarms: { open: 0, acknowledged: 0 } });
    await expect(carrier.get('/v1/fleet')).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await fetch(`${t.httpUrl}/v1/fleet`)).status).toBe(401);
  });
});

describe('GET /v1/lockers/:id/events', () => {
  it('pages backwards through the events a locker committed, newest first', async () => {
    const batch: EventBatchMessage = {
      v: 1,
      events: [1, 2, 3, 4, 5].map((seq) => ({ seq, id: `ev${seq}`, bootId: 'boot1', at: Date.now(), type: seq % 2 ? ('door.opened' as const) : ('door.closed' as const), compartmentId: 'A1' })),
    };
    await t.server.ctx.link.publish(topics.events(lockerId), encode(batch), { qos: 1 });
    await expect.poll(async () => (await t.api.get<EventPage>(`/v1/lockers/${lockerId}/events`)).events.length, { message: 'the events' }).toBe(5);

    const first = await t.api.get<EventPage>(`/v1/lockers/${lockerId}/events?limit=2`);
    expect(first.events.map((e) => e.seq)).toEqual([5, 4]);
    expect(first.events[0]).toMatchObject({ type: 'door.opened', compartmentId: 'A1' });
    expect(first.nextBefore).toBe(4);
    const second = await t.api.get<EventPage>(`/v1/lockers/${lockerId}/events?limit=2&before=4`);
    expect(second.events.map((e) => e.seq)).toEqual([3, 2]);
    const last = await t.api.get<EventPage>(`/v1/lockers/${lockerId}/events?limit=2&before=2`);
    expect(last).toMatchObject({ events: [{ seq: 1 }], nextBefore: null });
  });

  it('refuses unknown lockers, bad paging and carriers', async () => {
    await expect(t.api.get('/v1/lockers/lk_0000000000000000/events')).rejects.toMatchObject({ status: 404, code: 'LOCKER_NOT_FOUND' });
    for (const q of ['limit=0', 'limit=abc', 'limit=1000', 'before=-1', 'cursor=1']) {
      await expect(t.api.get(`/v1/lockers/${lockerId}/events?${q}`), q).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    }
    await expect(carrier.get(`/v1/lockers/${lockerId}/events`)).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });
});

describe('request ids', () => {
  it('come back as x-request-id, different for every request', async () => {
    const a = await fetch(`${t.httpUrl}/healthz`);
    const b = await fetch(`${t.httpUrl}/healthz`);
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});
