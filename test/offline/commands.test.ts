import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../shared/codec.js';
import { topics } from '../../shared/topics.js';
import type { CommandMessage } from '../../shared/messages.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import type { InProcessLocker } from '../../simulator/fleet.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import type { TestServer } from '../helpers/test-server.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

type Command = { id: string; state: string; result: string | null; requestedBy: string; reason: string };

let f: LockerFixture;
let t: TestServer;
let locker: InProcessLocker;
const clock = new ShiftClock();
beforeAll(async () => {
  f = await startLockerFixture({ clock, seed: 13 });
  ({ t, locker } = f);
});
afterAll(() => f.close());

const command = (body: Record<string, unknown>) => t.api.post<Command>(`/v1/lockers/${locker.id}/commands`, body);
const state = async (id: string) => (await t.api.get<Command>(`/v1/commands/${id}`)).state;

describe('operator commands', () => {
  it('a remote open needs a reason, opens exactly that door, and is reported succeeded by the locker', async () => {
    await expect(command({ type: 'open', compartmentId: 'A2' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(command({ type: 'open', compartmentId: 'Z9', reason: 'stuck parcel' })).rejects.toMatchObject({ code: 'COMPARTMENT_NOT_FOUND' });
    const released = locker.hardware.waitForRelease(5000);
    const c = await command({ type: 'open', compartmentId: 'A2', reason: 'customer on the phone, app broken' });
    expect(c).toMatchObject({ state: 'pending', requestedBy: 'admin:admin', reason: 'customer on the phone, app broken' });
    expect(await released).toBe('A2');
    expect(locker.hardware.isReleased('A1')).toBe(false);
    locker.hardware.openDoor('A2');
    locker.hardware.closeDoor('A2');
    await expect.poll(() => state(c.id), { message: 'the result' }).toBe('succeeded');
  });

  it('a command sent while the locker is offline is sent again when it is back, and runs once', async () => {
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the cut' }).toBe(true);
    const c = await command({ type: 'set_service', compartmentId: 'A1', inService: false, reason: 'broken hinge' });
    const view = await f.view();
    expect(view.compartments.find((x) => x.id === 'A1')?.state).toBe('out_of_service');
    locker.proxy.restore();
    await expect.poll(() => state(c.id), { timeout: 15_000, message: 'the result after reconnecting' }).toBe('succeeded');
    expect((await locker.store.compartment('A1'))?.in_service).toBe(0);
    // Bookings avoid it now.
    const p = await t.api.post<ParcelView>('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'AFTER-OOS' });
    expect(p.compartmentId).toBe('A2');
    // The same command id again (a broker redelivery) changes nothing.
    const before = await locker.store.lastSeq();
    const again: CommandMessage = { v: 1, id: c.id, type: 'set_service', compartmentId: 'A1', inService: true, issuedAt: clock.now(), expiresAt: clock.now() + 60_000, serverTime: clock.now() };
    await t.server.ctx.link.publish(topics.commands(locker.id), encode(again), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await locker.store.lastSeq()).toBe(before);
    expect((await locker.store.compartment('A1'))?.in_service).toBe(0);
  });

  it('an expired command is never run late', async () => {
    locker.proxy.cut();
    await expect.poll(() => !locker.agent.sync.connected, { message: 'the cut' }).toBe(true);
    const c = await command({ type: 'open', compartmentId: 'A2', reason: 'expires before the locker is back', ttlSec: 10 });
    clock.shiftMs += 10 * 60_000;
    await t.server.scheduler.runOnce();
    await expect.poll(() => state(c.id), { message: 'the server to expire it' }).toBe('expired');
    const released = locker.hardware.waitForRelease(1500);
    locker.proxy.restore();
    await expect.poll(() => locker.agent.sync.connected, { timeout: 15_000, message: 'the reconnect' }).toBe(true);
    expect(await released).toBeNull();

    // Even a late copy that reaches the locker is refused there, and reported expired.
    const late: CommandMessage = { v: 1, id: 'c_latecopy', type: 'open', compartmentId: 'A2', issuedAt: clock.now() - 120_000, expiresAt: clock.now() - 60_000, serverTime: clock.now() };
    const releasedLate = locker.hardware.waitForRelease(1000);
    await t.server.ctx.link.publish(topics.commands(locker.id), encode(late), { qos: 1 });
    expect(await releasedLate).toBeNull();
    await expect.poll(() => locker.store.commandState('c_latecopy'), { message: 'the device to refuse it' }).toBe('expired');
  });
});
