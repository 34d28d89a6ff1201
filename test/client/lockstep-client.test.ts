import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, LockstepClient } from '../../client/lockstep-client.js';
import { postTakesIdempotencyKey } from '../../shared/api/idempotency.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { createAccount, type CreatedAccount } from '../security/api-helpers.js';

/**
 * An HTTP proxy that can lose an answer: the request reaches the server, which does the work and answers, and the
 * proxy closes the client's connection instead of passing the answer on (a timeout, a crash of a load balancer).
 */
class AnswerDroppingProxy {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  /** Answers to requests whose first line starts with this are dropped, this many times. */
  drop: { prefix: string; times: number } = { prefix: '', times: 0 };
  dropped = 0;

  constructor(private readonly target: URL) {}

  async listen(): Promise<string> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      this.#sockets.add(client).add(upstream);
      let dropThis = false;
      client.on('data', (chunk: Buffer) => {
        const line = chunk.toString('latin1', 0, 64);
        if (/^[A-Z]+ \//.test(line)) dropThis = this.drop.times > 0 && line.startsWith(this.drop.prefix);
        if (dropThis) this.drop.times--;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (dropThis) {
          this.dropped++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    this.#server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

let t: TestServer;
let carrier: CreatedAccount;
let lockerId: string;
let proxy: AnswerDroppingProxy;
let proxied: LockstepClient;
let direct: LockstepClient;

beforeAll(async () => {
  t = await startTestServer();
  carrier = await createAccount(t, 'carrier', 'client carrier');
  lockerId = (await registerLocker(t.api, Array.from({ length: 8 }, (_, i) => ({ id: `A${i + 1}`, size: 'S' })))).id;
  proxy = new AnswerDroppingProxy(new URL(t.httpUrl));
  proxied = new LockstepClient(await proxy.listen(), carrier.token, { writeRetry: { firstDelayMs: 20 } });
  direct = new LockstepClient(t.httpUrl, carrier.token);
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
});

const booking = (reference: string) => ({ lockerId, size: 'S' as const, recipient: { email: 'r@x.example' }, reference });
const parcelsWith = async (reference: string) => t.server.ctx.db.selectFrom('parcels').select('id').where('reference', '=', reference).execute();

describe('the typed client against a real server', () => {
  it('books, finds, reads, extends and cancels with the shared types; errors carry the catalogue code', async () => {
    const booked = await direct.bookParcel(booking('CLIENT-1'));
    expect(booked.status).toBe('booked');
    expect(booked.dropoff.pin).toMatch(/^\d+$/);
    expect((await direct.findParcels('CLIENT-1')).items.map((p) => p.id)).toEqual([booked.id]);
    expect((await direct.listParcels({ referencePrefix: 'CLIENT-', limit: '10' })).items.map((p) => p.id)).toContain(booked.id);
    // Listing the fleet is an operator's (or admin's) call, not a carrier's.
    expect((await new LockstepClient(t.httpUrl, t.server.adminToken).listLockers({ limit: '5' })).items.map((l) => l.id)).toContain(lockerId);
    await expect(direct.listLockers()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await direct.getParcel(booked.id)).history[0]?.type).toBe('booked');
    expect((await direct.getTimeline(booked.id)).parcelId).toBe(booked.id);
    expect((await direct.getLocker(lockerId)).id).toBe(lockerId);
    const notExtendable = await direct.extendPickup(booked.id).catch((e: unknown) => e);
    expect(notExtendable).toBeInstanceOf(ApiError);
    expect(notExtendable).toMatchObject({ status: 409, code: 'PARCEL_NOT_IN_LOCKER' });
    expect((await direct.cancelParcel(booked.id)).status).toBe('cancelled');
    await expect(direct.getParcel('p_nope')).rejects.toMatchObject({ code: 'PARCEL_NOT_FOUND' });
  });

  it('sets, reads and removes its webhook', async () => {
    const set = await direct.setWebhook({ url: 'http://127.0.0.1:9/hook' });
    expect(set.url).toBe('http://127.0.0.1:9/hook');
    expect((await direct.getWebhook()).url).toBe('http://127.0.0.1:9/hook');
    expect((await direct.listDeliveries({ limit: '5' })).deliveries).toBeInstanceOf(Array);
    expect((await direct.deleteWebhook()).deleted).toBe(true);
  });

  it('pages the audit log (admin)', async () => {
    const admin = new LockstepClient(t.httpUrl, t.server.adminToken);
    const first = await admin.getAudit({ limit: 1 });
    expect(first.items.length).toBeLessThanOrEqual(1);
  });

  it('a booking whose answer was lost is retried with its key and gets the first answer: one parcel, not two', async () => {
    proxy.drop = { prefix: 'POST /v1/parcels ', times: 1 };
    const booked = await proxied.bookParcel(booking('CLIENT-DROP'));
    expect(proxy.dropped).toBe(1);
    expect(proxied.http.writeRetries).toBeGreaterThanOrEqual(1);
    expect(proxied.http.replays).toBe(1);
    const rows = await parcelsWith('CLIENT-DROP');
    expect(rows.map((r) => r.id)).toEqual([booked.id]);
    // The replayed answer is the first one, drop-off code included.
    expect((await direct.getParcel(booked.id)).compartmentId).toBe(booked.compartmentId);
  });

  it('a caller-chosen key makes the caller\'s own retry, much later, safe too', async () => {
    const first = await direct.bookParcel(booking('CLIENT-OWN-KEY'), { idempotencyKey: 'order-4711' });
    const again = await direct.bookParcel(booking('CLIENT-OWN-KEY'), { idempotencyKey: 'order-4711' });
    expect(again).toEqual(first);
    expect(await parcelsWith('CLIENT-OWN-KEY')).toHaveLength(1);
    await expect(direct.bookParcel(booking('CLIENT-OTHER'), { idempotencyKey: 'order-4711' })).rejects.toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('without keys (idempotencyKey: false) a lost answer is not retried: the caller learns it, nothing is booked twice', async () => {
    proxy.drop = { prefix: 'POST /v1/parcels ', times: 1 };
    await expect(proxied.bookParcel(booking('CLIENT-NOKEY'), { idempotencyKey: false })).rejects.toMatchObject({ code: 'SIM_SERVER_UNREACHABLE' });
    expect(await parcelsWith('CLIENT-NOKEY')).toHaveLength(1);
  });

  it('knows which POST routes take a key, as the API document says', async () => {
    const doc = (await t.server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const posts = Object.entries(doc.paths).filter(([, item]) => item.post);
    expect(posts.length).toBeGreaterThan(15);
    for (const [path, item] of posts) {
      const documented = (item.post!.parameters ?? []).some((p) => p.in === 'header' && p.name === 'idempotency-key');
      expect(postTakesIdempotencyKey(path.replace(/\{[^}]+\}/g, 'x_1')), path).toBe(documented);
    }
  });
});
