import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParcelView } from '../../shared/api/parcels.js';
import type { InProcessLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import type { TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

type Alarm = { kind: string; parcelId: string | null; state: string };

let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
beforeAll(async () => {
  f = await startLockerFixture({ seed: 11 });
  ({ t, locker } = f);
});
afterAll(() => f.close());

const book = (reference: string) => f.book(reference);
const read = (id: string) => f.read(id);
const compartment = async (id: string) => (await f.view()).compartments.find((c) => c.id === id);
const synced = () => f.synced();

describe('revocation', () => {
  it('a cancelled booking’s codes stop working, QR included, and its compartment is freed once the locker confirms', async () => {
    const p = await book('REVOKE-ONLINE');
    await synced();
    const cancelled = await t.api.post<ParcelView>(`/v1/parcels/${p.id}/cancel`, {});
    expect(cancelled.status).toBe('cancelled');
    await synced();
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
    expect(await locker.agent.enterCode(p.dropoff.qr, 'scanner')).toEqual({ refused: 'REVOKED' });
    await expect.poll(async () => (await compartment(p.compartmentId))?.state, { message: 'the compartment to be freed' }).toBe('free');
    await expect(t.api.post(`/v1/parcels/${p.id}/cancel`, {})).rejects.toMatchObject({ code: 'PARCEL_NOT_CANCELLABLE' });
  });

  it('a locker that missed the revocation while offline learns it from the snapshot, and refuses the QR', async () => {
    const p = await book('REVOKE-SNAPSHOT');
    await synced();
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the cut' }).toBe(true);
    await t.api.post(`/v1/parcels/${p.id}/cancel`, {});
    // Keep the compartment until the locker confirms: it might have taken the parcel offline.
    expect((await compartment(p.compartmentId))?.state).not.toBe('free');
    locker.proxy.restore();
    await synced();
    expect(await locker.agent.enterCode(p.dropoff.qr, 'scanner')).toEqual({ refused: 'REVOKED' });
    await expect.poll(async () => (await compartment(p.compartmentId))?.state, { message: 'the compartment to be freed' }).toBe('free');
  });

  it('a deposit made offline before the cancellation arrived wins: the parcel is in, the operator is told, the recipient gets a new code', async () => {
    const p = await book('REVOKE-LATE');
    await synced();
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the cut' }).toBe(true);
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    locker.hardware.openDoor(p.compartmentId);
    locker.hardware.closeDoor(p.compartmentId);
    await t.api.post(`/v1/parcels/${p.id}/cancel`, {});
    locker.proxy.restore();

    await expect.poll(async () => (await read(p.id)).status, { timeout: 15_000, message: 'the door sensor’s truth to win' }).toBe('in_locker');
    const parcel = await read(p.id);
    expect(parcel.history.find((h) => h.type === 'deposited')?.detail).toMatchObject({ reconciled: true });
    const { items: alarms } = await t.api.get<{ items: Alarm[] }>(`/v1/alarms?lockerId=${locker.id}`);
    expect(alarms.some((a) => a.kind === 'revoked_grant_used' && a.parcelId === p.id)).toBe(true);
    expect((await compartment(p.compartmentId))?.parcelId).toBe(p.id);

    const code = await awaitPickupCode(t.api, p.id, 10_000);
    await synced();
    expect(await locker.agent.enterCode(code!.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    locker.hardware.openDoor(p.compartmentId);
    locker.hardware.closeDoor(p.compartmentId);
    await expect.poll(async () => (await read(p.id)).status, { message: 'the pickup' }).toBe('picked_up');
  });

  it('a cancellation while the courier has the door open keeps the compartment until the door closes', async () => {
    const p = await book('REVOKE-DOOR-OPEN');
    await synced();
    expect(await locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
    expect(locker.hardware.openDoor(p.compartmentId)).toBe(true);
    await expect.poll(() => locker.store.outboxSize(), { message: 'the open door to be reported' }).toBe(0);
    await t.api.post(`/v1/parcels/${p.id}/cancel`, {});
    await synced();
    await new Promise((r) => setTimeout(r, 300));
    expect((await compartment(p.compartmentId))?.parcelId).toBe(p.id);
    locker.hardware.closeDoor(p.compartmentId);
    await expect.poll(async () => (await read(p.id)).status, { message: 'the deposit to win' }).toBe('in_locker');
    expect((await compartment(p.compartmentId))?.state).toBe('occupied');
  });
});
