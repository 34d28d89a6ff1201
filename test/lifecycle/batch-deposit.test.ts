import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePin } from '../../server/codes/pins.js';
import { ApiClient } from '../../client/http-client.js';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

interface SessionAnswer {
  sessionId: string;
  lockerId: string;
  code: { pin: string; qr: string };
  expiresAt: number;
  parcels: { parcelId: string; compartmentId: string }[];
}

let f: LockerFixture;
beforeAll(async () => {
  f = await startLockerFixture({
    compartments: [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
      { id: 'A3', size: 'S' },
      { id: 'A4', size: 'S' },
      { id: 'A5', size: 'S' },
      { id: 'A6', size: 'S' },
      { id: 'B1', size: 'M' },
      { id: 'C1', size: 'L' },
    ],
  });
});
afterAll(() => f.close());

async function pickupPin(parcelId: string): Promise<string> {
  const { db, pinSecret, config } = f.t.server.ctx;
  const g = await db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'pickup').executeTakeFirstOrThrow();
  return derivePin(pinSecret, g.jti, config.pinLength);
}

const status = async (id: string) => (await f.read(id)).status;

describe('a courier deposits a van\'s worth of parcels with one code', () => {
  it('opens each parcel\'s compartment in turn, moves one that does not fit to a larger compartment, and its recipient picks it up there with the original code', async () => {
    const { hardware, agent } = f.locker;
    const [p1, p2, p3] = [await f.book('BATCH-1'), await f.book('BATCH-2'), await f.book('BATCH-3')];
    expect([p1.compartmentId, p2.compartmentId, p3.compartmentId]).toEqual(['A1', 'A2', 'A3']);

    const session = await f.t.api.post<SessionAnswer>(`/v1/lockers/${f.locker.id}/deposit-sessions`, { parcelIds: [p1.id, p2.id, p3.id] });
    expect(session.code.pin).toMatch(/^\d{8}$/);
    expect(session.parcels).toEqual([
      { parcelId: p1.id, compartmentId: 'A1' },
      { parcelId: p2.id, compartmentId: 'A2' },
      { parcelId: p3.id, compartmentId: 'A3' },
    ]);
    await f.synced();

    // First entry: the first parcel's door; the door cycle is the deposit.
    expect(await agent.enterCode(session.code.pin, 'keypad')).toEqual({ opened: 'A1' });
    f.cycle('A1');
    await expect.poll(() => status(p1.id), { message: 'the first deposit to reach the server' }).toBe('in_locker');

    // Second entry: A2 opens, the parcel does not fit; closing the empty door opens the next larger compartment.
    expect(await agent.enterCode(session.code.pin, 'keypad')).toEqual({ opened: 'A2' });
    expect(hardware.openDoor('A2')).toBe(true);
    hardware.pressDoesNotFit();
    hardware.closeDoor('A2');
    await expect.poll(() => hardware.isReleased('B1'), { message: 'the larger compartment to open' }).toBe(true);
    f.cycle('B1');
    await expect.poll(() => status(p2.id), { message: 'the moved deposit to reach the server' }).toBe('in_locker');

    // Third parcel by its label, scanned while the batch code is in use.
    expect(await agent.enterCode(p3.id, 'scanner')).toEqual({ opened: 'A3' });
    f.cycle('A3');
    await expect.poll(() => status(p3.id), { message: 'the third deposit to reach the server' }).toBe('in_locker');

    // Every parcel is in: the code opens nothing more.
    expect(await agent.enterCode(session.code.pin, 'keypad')).toEqual({ refused: 'BATCH_DONE' });

    // The server followed the move: the parcel names B1, A2 is free again, B1 holds it.
    const moved = await f.read(p2.id);
    expect(moved.compartmentId).toBe('B1');
    expect(moved.history.find((h) => h.type === 'moved')?.detail).toMatchObject({ from: 'A2', to: 'B1', reason: 'DOES_NOT_FIT' });
    const view = await f.view();
    const state = Object.fromEntries(view.compartments.map((c) => [c.id, [c.state, c.parcelId]]));
    expect(state).toMatchObject({ A1: ['occupied', p1.id], A2: ['free', null], A3: ['occupied', p3.id], A4: ['free', null], B1: ['occupied', p2.id], C1: ['free', null] });

    // The recipient's code, issued for A2 at booking, opens B1 where the locker put the parcel; once.
    const pin = await pickupPin(p2.id);
    expect(await agent.enterCode(pin, 'keypad')).toEqual({ opened: 'B1' });
    f.cycle('B1');
    await expect.poll(() => status(p2.id), { message: 'the pickup to reach the server' }).toBe('picked_up');
    expect(await agent.enterCode(pin, 'keypad')).toEqual({ refused: 'ALREADY_USED' });
    expect((await f.view()).compartments.find((c) => c.id === 'B1')?.state).toBe('free');

    // The batch code was counted once per parcel and raised no reuse alarm.
    const alarms = await f.t.api.get<{ items: { kind: string }[] }>(`/v1/alarms?lockerId=${f.locker.id}`);
    expect(alarms.items.map((a) => a.kind)).not.toContain('grant_reused');
  });

  it('a parcel\'s own drop-off code does not deposit it a second time after the batch put it in', async () => {
    const p = await f.book('BATCH-OWN');
    const session = await f.t.api.post<SessionAnswer>(`/v1/lockers/${f.locker.id}/deposit-sessions`, { parcelIds: [p.id] });
    await f.synced();
    const opened = await f.locker.agent.enterCode(session.code.qr, 'scanner');
    expect(opened).toEqual({ opened: p.compartmentId });
    f.cycle(p.compartmentId);
    await expect.poll(() => status(p.id), { message: 'the deposit' }).toBe('in_locker');
    expect(await f.locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ refused: 'ALREADY_DEPOSITED' });
  });

  it('refuses a session with a coded error and changes nothing', async () => {
    const url = `/v1/lockers/${f.locker.id}/deposit-sessions`;
    const p = await f.book('BATCH-REFUSED');
    const before = (await f.view()).desiredVersion;
    await expect(f.t.api.post(url, { parcelIds: [p.id, p.id] })).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    await expect(f.t.api.post(url, { parcelIds: [] })).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    await expect(f.t.api.post(url, { parcelIds: ['p_nope'] })).rejects.toMatchObject({ status: 404, code: 'PARCEL_NOT_FOUND' });
    await expect(f.t.api.post('/v1/lockers/nope/deposit-sessions', { parcelIds: [p.id] })).rejects.toMatchObject({ status: 404, code: 'LOCKER_NOT_FOUND' });
    const cancelled = (await f.book('BATCH-CANCELLED')).id;
    await f.t.api.post(`/v1/parcels/${cancelled}/cancel`, {});
    await expect(f.t.api.post(url, { parcelIds: [p.id, cancelled] })).rejects.toMatchObject({ status: 409, code: 'PARCEL_NOT_AWAITING_DEPOSIT' });
    // Only the cancellation moved the locker's desired state: no refused session was sent.
    expect((await f.view()).desiredVersion).toBe(before + 2);
  });

  it('a carrier batches only its own parcels, an operator none, an admin one carrier\'s at a time', async () => {
    const account = (role: string, name: string) =>
      f.t.api.post<{ token: string }>('/v1/accounts', { name, role }).then((a) => new ApiClient(f.t.httpUrl, a.token));
    const [carrierA, carrierB, operator] = [await account('carrier', 'A'), await account('carrier', 'B'), await account('operator', 'O')];
    const bookAs = (api: ApiClient, reference: string) =>
      api.post<{ id: string }>('/v1/parcels', { lockerId: f.locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
    const own = await bookAs(carrierA, 'ROLE-A');
    const other = await bookAs(carrierB, 'ROLE-B');
    const url = `/v1/lockers/${f.locker.id}/deposit-sessions`;
    await expect(operator.post(url, { parcelIds: [own.id] })).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect(carrierA.post(url, { parcelIds: [own.id, other.id] })).rejects.toMatchObject({ status: 404, code: 'PARCEL_NOT_FOUND' });
    await expect(f.t.api.post(url, { parcelIds: [own.id, other.id] })).rejects.toMatchObject({ status: 409, code: 'MIXED_CARRIERS' });
    const session = await carrierA.post<SessionAnswer>(url, { parcelIds: [own.id] });
    expect(session.parcels).toEqual([{ parcelId: own.id, compartmentId: expect.any(String) }]);
    // The session is in the parcel's history, with who opened it; never the code.
    const history = (await f.read(own.id)).history.find((h) => h.type === 'deposit_session.opened');
    expect(history?.detail).toEqual({ sessionId: session.sessionId, parcels: 1 });
    expect(JSON.stringify(await f.read(own.id))).not.toContain(session.code.pin);
  });
});
