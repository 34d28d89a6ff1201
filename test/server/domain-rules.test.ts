import { describe, expect, it } from 'vitest';
import { chooseCompartment, type CompartmentCandidate } from '../../server/parcels/allocation.js';
import { holdsCompartment, nextStatus, type ParcelTrigger } from '../../server/parcels/lifecycle.js';
import { PARCEL_STATUSES } from '../../shared/api/parcels.js';
import { derivePin, lockerPinKey, pinSourceOf } from '../../server/codes/pins.js';
import { ConfigError, configFromEnv } from '../../server/config.js';

const c = (id: string, size: CompartmentCandidate['size'], over: Partial<CompartmentCandidate> = {}): CompartmentCandidate => ({
  id,
  size,
  inService: true,
  parcelId: null,
  ...over,
});

describe('compartment allocation', () => {
  it('picks the smallest free compartment that fits', () => {
    const list = [c('L1', 'L'), c('M2', 'M'), c('M1', 'M'), c('S1', 'S', { parcelId: 'p' })];
    expect(chooseCompartment(list, 'S')).toEqual({ ok: true, compartmentId: 'M1' });
    expect(chooseCompartment(list, 'L')).toEqual({ ok: true, compartmentId: 'L1' });
  });

  it('skips occupied and out-of-service compartments', () => {
    const list = [c('S1', 'S', { inService: false }), c('S2', 'S', { parcelId: 'p' }), c('M1', 'M')];
    expect(chooseCompartment(list, 'S')).toEqual({ ok: true, compartmentId: 'M1' });
  });

  it('says whether the size is not offered at all or just not free now', () => {
    expect(chooseCompartment([c('S1', 'S')], 'L')).toEqual({ ok: false, code: 'SIZE_NOT_OFFERED' });
    expect(chooseCompartment([c('L1', 'L', { parcelId: 'p' })], 'S')).toEqual({ ok: false, code: 'NO_FREE_COMPARTMENT' });
  });
});

describe('parcel lifecycle', () => {
  const table: [string, ParcelTrigger, string | null][] = [
    ['booked', 'deposit', 'in_locker'],
    ['booked', 'pickup', 'picked_up'],
    ['booked', 'cancel', 'cancelled'],
    ['in_locker', 'pickup', 'picked_up'],
    ['in_locker', 'expire', 'expired'],
    ['in_locker', 'deposit', null],
    ['in_locker', 'cancel', null],
    ['expired', 'collect', 'returned'],
    ['picked_up', 'deposit', null],
    ['picked_up', 'pickup', null],
    ['returned', 'pickup', null],
    ['cancelled', 'deposit', 'in_locker'],
    ['cancelled', 'pickup', 'picked_up'],
    ['cancelled', 'cancel', null],
  ];
  it.each(table)('%s + %s → %s', (from, trigger, to) => {
    expect(nextStatus(from as (typeof PARCEL_STATUSES)[number], trigger)).toBe(to);
  });

  it('final states accept nothing', () => {
    for (const s of ['picked_up', 'returned'] as const) {
      for (const t of ['deposit', 'pickup', 'cancel', 'expire', 'collect'] as const) expect(nextStatus(s, t)).toBeNull();
    }
  });

  it('only booked, in-locker and expired parcels hold a compartment', () => {
    expect(PARCEL_STATUSES.filter(holdsCompartment)).toEqual(['booked', 'in_locker', 'expired']);
  });
});

describe('PIN derivation', () => {
  const secret = Buffer.alloc(32, 1);
  it('gives a fixed-length numeric PIN, the same for the same grant', () => {
    const pin = derivePin(secret, 'jti-1', 8);
    expect(pin).toMatch(/^\d{8}$/);
    expect(derivePin(secret, 'jti-1', 8)).toBe(pin);
    expect(derivePin(secret, 'jti-2', 8)).not.toBe(pin);
    expect(derivePin(Buffer.alloc(32, 2), 'jti-1', 8)).not.toBe(pin);
  });

  it('spreads PINs over the whole space (no leading-digit bias visible in 2,000 draws)', () => {
    const firstDigits = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const d = derivePin(secret, `j${i}`, 6)[0]!;
      firstDigits.set(d, (firstDigits.get(d) ?? 0) + 1);
    }
    expect(firstDigits.size).toBe(10);
    for (const n of firstDigits.values()) expect(n).toBeGreaterThan(120);
  });

  it('uses the configured alphabet', () => {
    const pin = derivePin(secret, 'jti-1', 10, 'ABCDEFGHJK');
    expect(pin).toMatch(/^[A-HJK]{10}$/);
    expect(derivePin(secret, 'jti-1', 10)).toMatch(/^\d{10}$/);
  });

  it('gives each locker its own PIN key', () => {
    expect(lockerPinKey(secret, 'lk_a').equals(lockerPinKey(secret, 'lk_b'))).toBe(false);
    expect(lockerPinKey(secret, 'lk_a')).toHaveLength(32);
  });
});

describe('lifecycle settings', () => {
  it('reads reminder lead times as a comma-separated list; 0 means none', () => {
    expect(configFromEnv({}).pickupRemindersSec).toEqual([86400]);
    expect(configFromEnv({ PICKUP_REMINDERS_SEC: '86400, 7200' }).pickupRemindersSec).toEqual([86400, 7200]);
    expect(configFromEnv({ PICKUP_REMINDERS_SEC: '0' }).pickupRemindersSec).toEqual([]);
  });

  it('refuses bad lifecycle settings, naming the variable', () => {
    for (const env of [{ PICKUP_REMINDERS_SEC: 'soon' }, { PICKUP_REMINDERS_SEC: '30' }, { MAX_EXTENSIONS: '-1' }, { EXTENSION_SEC: '10' }, { LOCKER_OFFLINE_ALARM_SEC: 'x' }]) {
      const err = (() => {
        try {
          configFromEnv(env);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(Object.keys(env)[0]);
    }
  });
});

describe('kept PINs', () => {
  it('a re-issued grant derives its PIN from the grant it replaced', () => {
    expect(pinSourceOf({ jti: 'new', pin_jti: 'old' })).toBe('old');
    expect(pinSourceOf({ jti: 'own', pin_jti: null })).toBe('own');
  });
});
