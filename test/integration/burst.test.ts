import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../shared/codec.js';
import { topics } from '../../shared/topics.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('a burst of device messages', () => {
  it('is handled to the end: 400 batches at once, each committed and acknowledged (no deadlock on the broker)', async () => {
    const lockers = await Promise.all(Array.from({ length: 4 }, () => registerLocker(t.api)));
    const before = t.server.stats.eventsApplied;
    const publishes: Promise<void>[] = [];
    for (const l of lockers) {
      for (let seq = 1; seq <= 100; seq++) {
        const event = { seq, id: `e${seq}`, bootId: 'b1', at: Date.now(), type: 'door.opened' as const, compartmentId: 'A1' };
        publishes.push(t.server.ctx.link.publish(topics.events(l.id), encode({ v: 1, events: [event] }), { qos: 1 }));
      }
    }
    await Promise.all(publishes);
    await expect.poll(() => t.server.stats.eventsApplied - before, { timeout: 30_000, message: 'all 400 batches to be committed' }).toBe(400);
    expect(t.server.stats.eventsApplied - before).toBe(400);
  }, 60_000);
});
