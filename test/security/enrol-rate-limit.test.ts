import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import type { EnrolmentTicket, LockerView } from '../../shared/api/lockers.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { databaseSnapshot } from './api-helpers.js';

const LIMIT = 3;
const clock = new ShiftClock();
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ rateLimitAnonymousPerMinute: LIMIT }, clock);
});
afterAll(() => t.close());

const register = () =>
  t.api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: 'Enrol', location: { lat: 1, lon: 1 }, compartments: [{ id: 'A1', size: 'S' }] });

async function publicKey() {
  const { publicKey: key } = await generateKeyPair('Ed25519', { extractable: true });
  return { kty: 'OKP', crv: 'Ed25519', x: String((await exportJWK(key)).x) };
}

async function attempt(lockerId: string, token: string) {
  const res = await fetch(`${t.httpUrl}/v1/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lockerId, token, publicKey: await publicKey() }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string } } };
}

describe('POST /v1/enrol under the anonymous per-address limit', () => {
  it('accepted enrolments do not count: a site may enrol more lockers than the limit in one minute', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      const locker = await register();
      expect((await attempt(locker.id, locker.enrolment.token)).status).toBe(200);
    }
  });

  it('after as many refused attempts as the limit, the next attempt is refused with RATE_LIMITED and changes nothing, even with the right token', async () => {
    const locker = await register();
    for (let i = 0; i < LIMIT; i++) {
      const guess = await attempt(locker.id, `${locker.enrolment.token.slice(0, -4)}x${i}xx`);
      expect(guess.status).toBe(403);
      expect(guess.body.error?.code).toBe('ENROLMENT_REFUSED');
    }
    const before = await databaseSnapshot(t);
    const limited = await attempt(locker.id, locker.enrolment.token);
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('RATE_LIMITED');
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    expect(await databaseSnapshot(t)).toBe(before);

    // The next minute the address may try again, and the token (never spent) still works.
    clock.shiftMs += 61_000;
    const later = await attempt(locker.id, locker.enrolment.token);
    expect(later.status).toBe(200);
  });
});
