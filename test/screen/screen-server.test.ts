import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startScreenFixture, type ScreenFixture } from './screen-fixture.js';

let f: ScreenFixture;
let host: string;
beforeAll(async () => {
  f = await startScreenFixture();
  host = `127.0.0.1:${f.screen.port}`;
});
afterAll(() => f.closeAll());

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(f.screen.port, 'POST', path, { host, 'content-type': 'application/json', ...headers }, JSON.stringify(body));

describe('the screen server answers only its own loopback page', () => {
  it('serves the page, its script and every catalogue, with a strict content security policy', async () => {
    const page = await request(f.screen.port, 'GET', '/', { host });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('<script type="module" src="/screen.js">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    for (const path of ['/screen.js', '/screen.css', '/i18n/en.json', '/i18n/pl.json', '/i18n/de.json', '/i18n/zh.json']) {
      expect((await request(f.screen.port, 'GET', path, { host })).status, path).toBe(200);
    }
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin with coded errors, changing nothing', async () => {
    const before = f.state().version;
    expect((await request(f.screen.port, 'GET', '/api/state', { host: 'evil.example:80' })).body).toMatchObject({ error: { code: 'SCREEN_FOREIGN_HOST' } });
    const r = await postJson('/api/action', { action: 'start' }, { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: { code: 'SCREEN_FOREIGN_ORIGIN' } });
    expect(f.state().version).toBe(before);
  });

  it('refuses other methods, unknown paths, non-JSON bodies, bodies that do not match, and oversized bodies', async () => {
    expect((await request(f.screen.port, 'GET', '/../../etc/passwd', { host })).body).toMatchObject({ error: { code: 'SCREEN_NOT_FOUND' } });
    expect((await request(f.screen.port, 'PUT', '/api/code', { host })).body).toMatchObject({ error: { code: 'SCREEN_METHOD_NOT_ALLOWED' } });
    expect((await request(f.screen.port, 'POST', '/api/code', { host, 'content-type': 'text/plain' }, '{"code":"1"}')).body).toMatchObject({ error: { code: 'SCREEN_UNSUPPORTED_MEDIA' } });
    expect((await postJson('/api/code', { code: '12 34' })).body).toMatchObject({ error: { code: 'SCREEN_BAD_REQUEST' } });
    expect((await postJson('/api/action', { action: 'explode' })).body).toMatchObject({ error: { code: 'SCREEN_BAD_REQUEST' } });
    expect((await postJson('/api/language', { language: 'fr' })).body).toMatchObject({ error: { code: 'SCREEN_BAD_REQUEST' } });
    expect((await postJson('/api/scan', { data: 'x'.repeat(5000) })).body).toMatchObject({ error: { code: 'SCREEN_BODY_TOO_LARGE' } });
    expect(f.state().view).toEqual({ kind: 'idle' });
  });

  it('listens on 127.0.0.1 only', () => {
    expect(f.screen.url).toBe(`http://127.0.0.1:${f.screen.port}/`);
  });

  it('a code typed on the screen goes the physical keypad path: the drop-off PIN opens its door, the screen follows the door', async () => {
    const parcel = await f.book('SCR-API-1');
    await f.synced();
    const r = await postJson('/api/code', { code: parcel.dropoff.pin });
    expect(r.body).toEqual({ opened: parcel.compartmentId });
    expect(f.state().view).toMatchObject({ kind: 'open', door: parcel.compartmentId, action: 'deposit' });
    f.cycle(parcel.compartmentId);
    await expect.poll(() => f.state().view).toMatchObject({ kind: 'done', action: 'deposit', door: parcel.compartmentId });
    // The physical keypad (the simulator's terminal) reaches the same screen.
    f.locker.hardware.type('00000000');
    await expect.poll(() => f.state().view).toMatchObject({ kind: 'error', error: { code: 'wrongCode', attemptsLeft: 4 } });
  });
});
