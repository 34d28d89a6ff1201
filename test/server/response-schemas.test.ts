import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazySerializers } from '../../server/http/lazy-serializers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('response serializers, built on first use', () => {
  it('of every route of the server can be built: none would fail its first answer', () => {
    // One per route and documented status.
    expect(t.server.app.buildResponseSerializers()).toBeGreaterThan(200);
  });

  it('still shape each answer by its schema, and a schema that cannot be built is found by buildAll', async () => {
    const serializers = lazySerializers();
    const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: serializers.factory } } });
    const shaped = { type: 'object', properties: { name: { type: 'string' } } };
    app.get('/shaped', { schema: { response: { 200: shaped } } }, async () => ({ name: 'A1', secret: 'not in the schema' }));
    app.get('/broken', { schema: { response: { 200: { $ref: 'nowhere#/missing' } } } }, async () => ({}));
    await app.ready(); // starts although /broken cannot be serialized
    try {
      const res = await app.inject({ method: 'GET', url: '/shaped' });
      expect(res.json()).toEqual({ name: 'A1' });
      expect((await app.inject({ method: 'GET', url: '/broken' })).statusCode).toBe(500);
      expect(() => serializers.buildAll()).toThrow();
    } finally {
      await app.close();
    }
  });
});
