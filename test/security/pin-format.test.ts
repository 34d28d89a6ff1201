import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLockerFixture, type LockerFixture } from '../helpers/locker-fixture.js';

let f: LockerFixture;
beforeAll(async () => {
  f = await startLockerFixture({ server: { pinLength: 7, pinAlphabet: '0123456789ABCDEF' } });
});
afterAll(() => f.close());

describe('PIN length and alphabet', () => {
  it('are configured on the server, reach the locker, and shape every code', async () => {
    const p = await f.book('ALPHABET');
    expect(p.dropoff.pin).toMatch(/^[0-9A-F]{7}$/);
    await f.synced();
    // A code of the wrong length or with symbols outside the alphabet is refused before any lookup.
    expect(await f.locker.agent.enterCode('12345678', 'keypad')).toEqual({ refused: 'MALFORMED' });
    expect(await f.locker.agent.enterCode('ZZZZZZZ', 'keypad')).toEqual({ refused: 'MALFORMED' });
    expect(await f.locker.agent.enterCode(p.dropoff.pin, 'keypad')).toEqual({ opened: p.compartmentId });
  });
});
