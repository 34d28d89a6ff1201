import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import type { PublicJwk } from '../../shared/messages.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { buildSnapshot } from '../../server/desired-state/desired-state.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
interface KeyView {
  kid: string;
  status: string;
  liveGrants: number;
  pendingLockers: number | null;
}

let t: TestServer;
let locker: InProcessLocker;
let before: Booked;
let oldKid: string;
let newKid: string;

beforeAll(async () => {
  t = await startTestServer();
  locker = await startSimLocker({
    api: t.api,
    name: 'Rotating',
    location: { lat: 52.2, lon: 21 },
    compartments: ['A1', 'A2', 'A3'].map((id) => ({ id, size: 'S' as const })),
    dataDir: t.dir,
    clock: systemClock,
    random: seededRandom(21),
  });
  await vi.waitFor(() => expect(locker.agent.ready, 'the locker configuration').toBe(true), { timeout: 10_000, interval: 10 });
});
afterAll(async () => {
  await locker.stop();
  await t.close();
});

const book = (reference: string) => t.api.post<Booked>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
const kidOf = (token: string) => String(decodeProtectedHeader(token).kid);
const keys = async () => (await t.api.get<{ keys: KeyView[] }>('/v1/admin/keys')).keys;
const jwks = async () => (await t.api.get<{ keys: PublicJwk[] }>('/.well-known/jwks.json')).keys.map((k) => k.kid).sort();
const deviceKids = async () => (await locker.store.keys()).map((k) => k.kid).sort();

describe('signing-key rotation with a connected locker', () => {
  it('a rotation reaches the connected locker by delta before the new key signs; then bookings are signed with it and open', async () => {
    before = await book('ROT-0');
    oldKid = kidOf(before.dropoff.qr);
    await expect.poll(async () => (await locker.store.grantCount()) >= 2, { message: 'the first grants' }).toBe(true);
    const applied = await locker.store.appliedVersion();
    const connects = locker.agent.sync.stats.connects;

    const next = await t.api.post<KeyView>('/v1/admin/keys/rotate', {});
    newKid = next.kid;
    expect(next.status).toBe('next');
    await expect.poll(async () => (await deviceKids()).includes(newKid), { message: 'the new key on the locker' }).toBe(true);
    // By a delta, on the connection it already had (no reconnect, no snapshot needed).
    expect(await locker.store.appliedVersion()).toBe(applied + 1);
    expect(locker.agent.sync.stats.connects).toBe(connects);
    expect(await deviceKids()).toEqual([oldKid, newKid].sort());

    // The locker reported the version that carried it: the key starts signing.
    await expect.poll(async () => (await keys()).find((k) => k.kid === newKid)?.status, { timeout: 10_000, message: 'the new key to be active' }).toBe('active');
    expect((await keys()).find((k) => k.kid === oldKid)).toMatchObject({ status: 'previous', liveGrants: 2 });

    const after = await book('ROT-1');
    expect(kidOf(after.dropoff.qr)).toBe(newKid);
    await expect.poll(async () => (await locker.store.grantCount()) >= 4, { message: 'the new grants' }).toBe(true);
    expect(await locker.agent.enterCode(after.dropoff.pin, 'keypad')).toEqual({ opened: after.compartmentId });
    expect(locker.hardware.openDoor(after.compartmentId)).toBe(true);
    locker.hardware.closeDoor(after.compartmentId);
  });

  it('the JWKS lists exactly the keys whose grants may still be live', async () => {
    expect(await jwks()).toEqual([oldKid, newKid].sort());
    const live = (await keys()).filter((k) => k.status !== 'retired').map((k) => k.kid).sort();
    expect(await jwks()).toEqual(live);
  });

  it('a retired key leaves the locker, which then refuses its grants (PIN and QR) with UNKNOWN_KEY', async () => {
    const retired = await t.api.post<KeyView>(`/v1/admin/keys/${oldKid}/retire`, {});
    expect(retired).toMatchObject({ kid: oldKid, status: 'retired' });
    await expect.poll(async () => !(await deviceKids()).includes(oldKid), { message: 'the old key to leave the locker' }).toBe(true);
    expect(await deviceKids()).toEqual([newKid]);
    expect(await locker.agent.enterCode(before.dropoff.pin, 'keypad')).toEqual({ refused: 'UNKNOWN_KEY' });
    expect(await locker.agent.enterCode(before.dropoff.qr, 'scanner')).toEqual({ refused: 'UNKNOWN_KEY' });
    expect(locker.hardware.isReleased(before.compartmentId)).toBe(false);
    expect(await jwks()).toEqual([newKid]);
    // A snapshot (what a locker gets after a reconnect) carries the same key set.
    expect((await buildSnapshot(t.server.ctx, locker.id))?.keys.map((k) => k.kid)).toEqual([newKid]);

    const audit = await t.api.get<{ items: { action: string; subject: string; actor: string }[] }>('/v1/audit');
    expect(audit.items.filter((e) => e.action.startsWith('key.')).map((e) => `${e.action}:${e.subject === newKid ? 'new' : 'old'}:${e.actor}`)).toEqual([
      'key.retire:old:admin:admin',
      'key.activate:new:system',
      'key.rotate:new:admin:admin',
    ]);
  });
});
