import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../server/audit/audit-log.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { call } from '../security/api-helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  for (let i = 1; i <= 25; i++) {
    await recordAudit(t.server.ctx.db, { at: i, actor: i % 2 ? 'operator:odd' : 'operator:even', action: 'set_service', result: 'done', subject: `s${i}` });
  }
});
afterAll(() => t.close());

type Page = { items: { id: number; subject: string; actor: string }[]; nextCursor: string | null };
const get = async (query: string) => {
  const res = await call(t, t.server.adminToken, 'GET', `/v1/audit${query}`);
  return { status: res.status, body: res.body as unknown as Page & { error?: { code: string } } };
};

describe('GET /v1/audit in cursor pages', () => {
  it('walks the whole log newest first with ?limit and the cursor, each entry once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(`?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(10);
      seen.push(...body.items.map((e) => e.subject));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `s${25 - i}`));
  });

  it('a filter holds across pages; the last page has no next cursor', async () => {
    const first = await get('?actor=operator:odd&limit=7');
    expect(first.body.items.map((e) => e.subject)).toEqual(['s25', 's23', 's21', 's19', 's17', 's15', 's13']);
    const second = await get(`?actor=operator:odd&limit=7&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((e) => e.subject)).toEqual(['s11', 's9', 's7', 's5', 's3', 's1']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('a page exactly as long as what is left says it is the last', async () => {
    const { body } = await get('?actor=operator:even&limit=12');
    expect(body.items).toHaveLength(12);
    expect(body.nextCursor).toBeNull();
  });

  it('?limit outside 1–1000 is refused with VALIDATION_FAILED, never ignored', async () => {
    for (const limit of ['0', '1001', '-1', 'ten', '']) {
      const { status, body } = await get(`?limit=${limit}`);
      expect(status, limit).toBe(400);
      expect(body.error?.code).toBe('VALIDATION_FAILED');
    }
    expect((await get('?limit=1000')).status).toBe(200);
  });

  it('a cursor the log did not hand out is 400 CURSOR_INVALID', async () => {
    for (const cursor of ['bm9wZQ', Buffer.from('{"id":-3}').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
      const { status, body } = await get(`?cursor=${cursor}`);
      expect(status, cursor).toBe(400);
      expect(body.error?.code).toBe('CURSOR_INVALID');
    }
    expect((await get('?cursor=not+base64')).body.error?.code).toBe('VALIDATION_FAILED');
  });
});
