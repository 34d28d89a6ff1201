import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { book, call, createAccount, type CreatedAccount } from './api-helpers.js';
import { lockersWithParcels, openCompartment } from './remote-open-helpers.js';

/**
 * An open of an EMPTY compartment needs no second operator. Queued for an offline locker, it must not become an
 * open of an occupied one: a booking made meanwhile never gets that compartment, or the open would hand its parcel
 * out when the locker reconnects, with no approval.
 */
let t: TestServer;
let operator: CreatedAccount;
let carrier: CreatedAccount;
let lockerId: string;

beforeAll(async () => {
  t = await startTestServer();
  operator = await createAccount(t, 'operator', 'day shift');
  carrier = await createAccount(t, 'carrier');
  const [locker] = await lockersWithParcels(t, carrier.token, 1, 2, 0);
  lockerId = locker!.lockerId;
});
afterAll(() => t.close());

describe('a remote open queued for an empty compartment', () => {
  it('keeps that compartment out of bookings until the open is final', async () => {
    const open = await openCompartment(t, operator.token, lockerId, 'C1');
    expect(open.status).toBeLessThan(300);
    expect(open.body.state).not.toBe('pending_approval');

    const first = await book(t, carrier.token, lockerId, 'R-1');
    const parcel = await call(t, carrier.token, 'GET', `/v1/parcels/${first}`);
    expect(parcel.body.compartmentId).toBe('C2');

    // C2 is taken and C1 waits for its open: the locker is full for a new booking.
    const second = await call(t, carrier.token, 'POST', '/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'R-2' });
    expect(second.status).toBe(409);
    expect(second.body.error?.code).toBe('NO_FREE_COMPARTMENT');
  });
});
