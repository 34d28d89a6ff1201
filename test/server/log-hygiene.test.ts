import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import mqtt from 'mqtt';
import { registerLocker, startTestServer } from '../helpers/test-server.js';

describe('logs', () => {
  it('never contain PINs, grant tokens, the admin token or device secrets, even at trace level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const t = await startTestServer({}, undefined, pino({ level: 'trace' }, sink));
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
});
