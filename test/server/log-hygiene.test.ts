import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import mqtt from 'mqtt';
import { systemClock } from '../../shared/clock.js';
import { startSimLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import { registerLocker, startTestServer } from '../helpers/test-server.js';
import { openLive } from '../dashboard/sse.js';

/** A pino logger at trace level writing every line to an array. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, sink) };
}

describe('logs', () => {
  it('never contain PINs, grant tokens, the admin token or device secrets, even at trace level', async () => {
    const { lines, logger } = capture();
    const t = await startTestServer({}, undefined, logger);
    try {
      const locker = await registerLocker(t.api);
      const parcel = await t.api.post<{ dropoff: { pin: string; qr: string } }>('/v1/parcels', {
        lockerId: locker.id,
        size: 'S',
        recipient: { email: 'r@x.example' },
        reference: 'LOG-1',
      });
      // A wrong password at the broker and a bad token at the API are logged as failures, without the secret.
      await mqtt.connectAsync(t.mqttUrl, { clientId: locker.id, username: locker.id, password: 'guess-guess-guess', reconnectPeriod: 0 }).catch(() => undefined);
      await fetch(`${t.httpUrl}/v1/lockers`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
      const text = lines.join('');
      expect(text.length).toBeGreaterThan(0);
      for (const secret of [parcel.dropoff.pin, parcel.dropoff.qr, t.server.adminToken, locker.device.password, locker.enrolment.token, 'guess-guess-guess', 'not-the-token-at-all']) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await t.close();
    }
  });

  it('hold no secret through a whole parcel cycle, a failed sign-in, the dashboard and a scrape; lines carry request and locker ids', async () => {
    const { lines, logger } = capture();
    const metricsToken = 'metrics-scraper-secret-0123456789abcdef';
    const t = await startTestServer({ metricsToken }, undefined, logger);
    const locker = await startSimLocker({ api: t.api, name: 'Logs', location: { lat: 52.2, lon: 21 }, dataDir: t.dir, clock: systemClock, random: seededRandom(3) });
    try {
      await expect.poll(() => locker.agent.ready, { message: 'the locker' }).toBe(true);
      const operator = await t.api.post<{ id: string; token: string }>('/v1/accounts', { name: 'Ops', role: 'operator' });
      const parcel = await t.api.post<{ id: string; compartmentId: string; dropoff: { pin: string; qr: string } }>('/v1/parcels', {
        lockerId: locker.id,
        size: 'S',
        recipient: { phone: '+48600100200' },
        reference: 'LOG-CYCLE',
      });
      await expect.poll(() => locker.store.grantCount(), { message: 'the grants' }).toBe(2);
      expect(await locker.agent.enterCode('00000000', 'keypad')).toEqual({ refused: 'UNKNOWN_CODE' });
      expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      locker.hardware.openDoor(parcel.compartmentId);
      locker.hardware.closeDoor(parcel.compartmentId);
      const pickup = await awaitPickupCode(t.api, parcel.id, 10_000);
      expect(await locker.agent.enterCode(pickup!.qr, 'scanner')).toEqual({ opened: parcel.compartmentId });
      locker.hardware.openDoor(parcel.compartmentId);
      locker.hardware.closeDoor(parcel.compartmentId);
      await expect.poll(async () => (await t.api.get<{ status: string }>(`/v1/parcels/${parcel.id}`)).status, { message: 'the pickup' }).toBe('picked_up');

      // A failed sign-in at the dashboard (a wrong token on its first data route), then the operator's session.
      expect((await fetch(`${t.httpUrl}/v1/fleet`, { headers: { authorization: 'Bearer wrong-dashboard-token-guess' } })).status).toBe(401);
      expect((await fetch(`${t.httpUrl}/dashboard/`)).status).toBe(200);
      const ops = { authorization: `Bearer ${operator.token}` };
      expect((await fetch(`${t.httpUrl}/v1/lockers/${locker.id}`, { headers: ops })).status).toBe(200);
      const live = await openLive(t.httpUrl, operator.token);
      await expect.poll(() => live.events.length > 0, { message: 'the live snapshot' }).toBe(true);
      live.close();
      expect((await fetch(`${t.httpUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));

      const text = lines.join('');
      const secrets = {
        dropoffPin: parcel.dropoff.pin,
        dropoffQr: parcel.dropoff.qr,
        pickupPin: pickup!.pin,
        pickupQr: pickup!.qr,
        adminToken: t.server.adminToken,
        operatorToken: operator.token,
        metricsToken,
        brokerSecret: await locker.credentials.password(),
        wrongToken: 'wrong-dashboard-token-guess',
      };
      for (const [what, secret] of Object.entries(secrets)) expect(text.includes(secret), what).toBe(false);
      // A grant token's signature alone is a secret too (the header and claims may repeat across grants).
      for (const qr of [parcel.dropoff.qr, pickup!.qr]) expect(text).not.toContain(qr.split('.')[2]);

      const entries = lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const completed = entries.filter((e) => e.msg === 'request completed');
      expect(completed.length).toBeGreaterThan(5);
      expect(completed.every((e) => typeof e.reqId === 'string')).toBe(true);
      expect(completed.some((e) => e.lockerId === locker.id && typeof e.reqId === 'string')).toBe(true);
      expect(entries.some((e) => e.msg === 'request not authenticated' && typeof e.reqId === 'string')).toBe(true);
    } finally {
      await locker.stop();
      await t.close();
    }
  });
});
