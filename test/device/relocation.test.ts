import { describe, expect, it } from 'vitest';
import { pickRelocation, type RelocationCandidate } from '../../device/relocation.js';
import { batchItemsOf } from '../../device/batch.js';
import { decideAccess } from '../../device/access-rules.js';
import type { GrantClaims } from '../../shared/grants.js';

const free = (id: string, size: RelocationCandidate['size'], o: Partial<RelocationCandidate> = {}): RelocationCandidate => ({
  id,
  size,
  inService: true,
  fault: null,
  parcelId: null,
  busy: false,
  reserved: false,
  ...o,
});

describe('where a deposit goes instead', () => {
  const all = [free('A1', 'S'), free('A2', 'S'), free('B2', 'M'), free('B1', 'M'), free('C1', 'L')];

  it('does not fit: the smallest strictly larger free compartment, first by id', () => {
    expect(pickRelocation({ id: 'A1', size: 'S' }, all, 'DOES_NOT_FIT')).toBe('B1');
    expect(pickRelocation({ id: 'B1', size: 'M' }, all, 'DOES_NOT_FIT')).toBe('C1');
    expect(pickRelocation({ id: 'C1', size: 'L' }, all, 'DOES_NOT_FIT')).toBeNull();
  });

  it('a jam or an unusable compartment: another one of the same size or larger', () => {
    expect(pickRelocation({ id: 'A1', size: 'S' }, all, 'LOCK_JAMMED')).toBe('A2');
    expect(pickRelocation({ id: 'A1', size: 'S' }, all, 'COMPARTMENT_UNAVAILABLE')).toBe('A2');
    expect(pickRelocation({ id: 'C1', size: 'L' }, all, 'LOCK_JAMMED')).toBeNull();
  });

  it('only compartments the locker knows to be free, in service, idle and promised to nobody', () => {
    const taken = [
      free('A2', 'S', { parcelId: 'p9' }),
      free('B1', 'M', { inService: false }),
      free('B2', 'M', { fault: 'jam' }),
      free('B3', 'M', { busy: true }),
      free('B4', 'M', { reserved: true }),
    ];
    expect(pickRelocation({ id: 'A1', size: 'S' }, taken, 'LOCK_JAMMED')).toBeNull();
    expect(pickRelocation({ id: 'A1', size: 'S' }, [...taken, free('XL1', 'XL')], 'LOCK_JAMMED')).toBe('XL1');
  });
});

describe('batch grant items', () => {
  it('reads a well-formed list and refuses a missing, malformed or repeating one', () => {
    const items = [{ p: 'p1', c: 'A1' }, { p: 'p2', c: 'A2' }];
    expect(batchItemsOf({ items })).toEqual(items);
    expect(batchItemsOf({})).toBeNull();
    expect(batchItemsOf(null)).toBeNull();
    expect(batchItemsOf({ items: [] })).toBeNull();
    expect(batchItemsOf({ items: [{ p: 'p1' }] })).toBeNull();
    expect(batchItemsOf({ items: [{ p: 'p1', c: 'A1', x: 1 }] })).toBeNull();
    expect(batchItemsOf({ items: [{ p: 'p1', c: 'A1' }, { p: 'p1', c: 'A2' }] })).toBeNull();
    expect(batchItemsOf({ items: [{ p: 'p1', c: 'A1' }, { p: 'p2', c: 'A1' }] })).toBeNull();
    expect(batchItemsOf({ items: Array.from({ length: 21 }, (_, i) => ({ p: `p${i}`, c: `C${i}` })) })).toBeNull();
  });
});

describe('a drop-off code for a parcel the locker already holds', () => {
  it('is refused as ALREADY_DEPOSITED, even when its own compartment is empty (the parcel was moved)', () => {
    const nowSec = 1_800_000_000;
    const claims: GrantClaims = { iss: 'lockstep', aud: 'lk1', sub: 'p1', jti: 'j1', act: 'deposit', cmp: 'A1', ph: 'x'.repeat(43), iat: nowSec, nbf: nowSec, exp: nowSec + 60 };
    const ctx = { lockerId: 'lk1', now: nowSec * 1000, clockToleranceSec: 0, used: false, revoked: false, compartment: { inService: true, fault: null, parcelId: null, busy: false } };
    expect(decideAccess(claims, ctx)).toBeNull();
    expect(decideAccess(claims, { ...ctx, parcelHeldIn: 'B1' })).toBe('ALREADY_DEPOSITED');
    expect(decideAccess({ ...claims, act: 'deposit_batch' }, ctx)).toBe('UNSUPPORTED_ACTION');
  });
});
