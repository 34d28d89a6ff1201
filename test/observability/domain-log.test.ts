import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { systemClock } from '../../shared/clock.js';
import { startSimLocker } from '../../simulator/fleet.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { seededRandom } from '../../simulator/random.js';
import { domainLine } from '../../server/domain-log.js';
import type { DomainEvent } from '../../server/domain-events.js';
import { createServerLogger } from '../../server/logger.js';
import { startTestServer } from '../helpers/test-server.js';

interface Line {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** The server's own logger (server/logger.ts) at info, its JSON lines captured. */
function capture() {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    raw
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
  return { raw, lines, logger: createServerLogger('info', { destination: sink }) };
}

describe('domain events in the log', () => {
  it('a booking, its deposit and its pickup are one info line each, and so is the locker going offline; no request lines, no secrets', async () => {
    const { raw, lines, logger } = capture();
    const t = await startTestServer({}, undefined, logger);
    const locker = await startSimLocker({ api: t.api, name: 'Log St', location: { lat: 52.2, lon: 21 }, dataDir: t.dir, clock: systemClock, random: seededRandom(5) });
    let stopped = false;
    try {
      await expect.poll(() => locker.agent.ready).toBe(true);
      const parcel = await t.api.post<{ id: string; compartmentId: string; dropoff: { pin: string; qr: string } }>('/v1/parcels', {
        lockerId: locker.id,
        size: 'S',
        recipient: { email: 'someone@example.com' },
        reference: 'LOG-DOMAIN-1',
      });
      await expect.poll(() => locker.store.grantCount()).toBe(2);
      expect(await locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      locker.hardware.openDoor(parcel.compartmentId);
      locker.hardware.closeDoor(parcel.compartmentId);
      const pickup = await awaitPickupCode(t.api, parcel.id, 10_000);
      expect(await locker.agent.enterCode(pickup!.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
      locker.hardware.openDoor(parcel.compartmentId);
      locker.hardware.closeDoor(parcel.compartmentId);
      await expect.poll(() => lines().some((l) => l.msg === 'parcel picked up')).toBe(true);
      const brokerSecret = await locker.credentials.password();
      await locker.stop();
      stopped = true;
      await expect.poll(() => lines().some((l) => l.msg === 'locker offline')).toBe(true);

      const info = lines().filter((l) => l.level === 30);
      const story = info.filter((l) => l.parcelId === parcel.id || (l.lockerId === locker.id && /^locker (online|offline)$/.test(l.msg)));
      expect(story.map((l) => l.msg)).toEqual(['locker online', 'parcel booked', 'parcel deposited', 'parcel picked up', 'locker offline']);
      expect(story.find((l) => l.msg === 'parcel booked')).toMatchObject({ status: 'booked', source: 'api', by: expect.stringMatching(/^admin/) });
      expect(story.find((l) => l.msg === 'parcel deposited')).toMatchObject({ status: 'in_locker', source: 'device', by: expect.stringContaining(locker.id) });
      expect(story.find((l) => l.msg === 'parcel picked up')).toMatchObject({ status: 'picked_up', source: 'device' });
      // Requests are debug lines now: none at info.
      expect(lines().filter((l) => /request/.test(l.msg) && l.level >= 30).map((l) => l.msg)).not.toContain('request completed');
      expect(lines().every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l.time))).toBe(true);
      const text = raw.join('');
      for (const secret of [parcel.dropoff.pin, parcel.dropoff.qr, pickup!.pin, pickup!.qr, t.server.adminToken, brokerSecret, 'someone@example.com']) {
        expect(text).not.toContain(secret);
      }
    } finally {
      if (!stopped) await locker.stop();
      await t.close();
    }
  });

  it('every kind of domain event has its line; parcel history that does not matter is debug', () => {
    const events: DomainEvent[] = [
      { type: 'parcel', change: 'expired', parcelId: 'p_1', status: 'expired', source: 'scheduler', sourceRef: 'pickup-window', at: 1 },
      { type: 'parcel', change: 'collected', parcelId: 'p_1', status: 'returned', source: 'device', sourceRef: 'lk_1#9', at: 2 },
      { type: 'parcel', change: 'reservation_expired', parcelId: 'p_2', status: 'cancelled', source: 'scheduler', sourceRef: 'deposit-window', at: 3 },
      { type: 'parcel', change: 'reminder', parcelId: 'p_3', status: 'in_locker', source: 'scheduler', sourceRef: 'reminder-3600s', at: 4 },
      { type: 'alarm.raised', alarmId: 'al_1', lockerId: 'lk_1', kind: 'door_forced', compartmentId: 'A1', parcelId: null },
      { type: 'alarm.resolved', alarmId: 'al_1', lockerId: 'lk_1', kind: 'locker_offline', by: 'system' },
      { type: 'locker.presence', lockerId: 'lk_1', online: true },
      { type: 'command.sent', commandId: 'c_1', lockerId: 'lk_1', commandType: 'open', compartmentId: 'A1', requestedBy: 'operator:acc_1' },
      { type: 'command.done', commandId: 'c_1', lockerId: 'lk_1', state: 'done', result: null },
    ];
    expect(events.map((e) => `${domainLine(e).level} ${domainLine(e).msg}`)).toEqual([
      'info parcel expired',
      'info parcel returned',
      'info parcel cancelled',
      'debug parcel history',
      'info alarm raised',
      'info alarm resolved',
      'info locker online',
      'info command sent',
      'info command done',
    ]);
    expect(domainLine(events[2]!).fields).toMatchObject({ cause: 'reservation_expired' });
  });
});
