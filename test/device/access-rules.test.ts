import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessContext } from '../../device/access-rules.js';
import { T0, claims } from '../helpers/grant-fixtures.js';

const empty = { inService: true, fault: null, parcelId: null, busy: false };
const holding = { ...empty, parcelId: 'p_1' };
const ctx = (over: Partial<AccessContext> = {}): AccessContext => ({
  lockerId: 'lk_one',
  now: T0 + 1000,
  clockToleranceSec: 60,
  used: false,
  revoked: false,
  compartment: empty,
  ...over,
});

describe('access rules at the locker', () => {
  it('a deposit code opens an empty in-service compartment', () => {
    expect(decideAccess(claims({ act: 'deposit' }), ctx())).toBeNull();
  });

  it('a pickup code opens only the compartment the locker saw filled with that parcel', () => {
    expect(decideAccess(claims({ act: 'pickup' }), ctx({ compartment: holding }))).toBeNull();
    expect(decideAccess(claims({ act: 'pickup' }), ctx({ compartment: empty }))).toBe('NOT_FILLED');
    expect(decideAccess(claims({ act: 'pickup' }), ctx({ compartment: { ...empty, parcelId: 'p_other' } }))).toBe('NOT_FILLED');
  });

  it('a used grant never opens again', () => {
    expect(decideAccess(claims({ act: 'deposit' }), ctx({ used: true }))).toBe('ALREADY_USED');
    expect(decideAccess(claims({ act: 'pickup' }), ctx({ used: true, compartment: holding }))).toBe('ALREADY_USED');
  });

  it('a revoked grant never opens, even shown as a QR code', () => {
    expect(decideAccess(claims({ act: 'deposit' }), ctx({ revoked: true }))).toBe('REVOKED');
  });

  it('a grant for another locker or outside its window is refused before anything else', () => {
    expect(decideAccess(claims({ aud: 'lk_two' }), ctx({ compartment: holding }))).toBe('WRONG_LOCKER');
    expect(decideAccess(claims(), ctx({ now: T0 + 10 * 3600_000, compartment: holding }))).toBe('EXPIRED');
  });

  it('a deposit never opens an occupied, faulty, busy or out-of-service compartment', () => {
    const deposit = claims({ act: 'deposit' });
    expect(decideAccess(deposit, ctx({ compartment: holding }))).toBe('COMPARTMENT_OCCUPIED');
    expect(decideAccess(deposit, ctx({ compartment: { ...empty, fault: 'jam' } }))).toBe('COMPARTMENT_FAULT');
    expect(decideAccess(deposit, ctx({ compartment: { ...empty, busy: true } }))).toBe('COMPARTMENT_BUSY');
    expect(decideAccess(deposit, ctx({ compartment: { ...empty, inService: false } }))).toBe('OUT_OF_SERVICE');
    expect(decideAccess(deposit, ctx({ compartment: undefined }))).toBe('UNKNOWN_COMPARTMENT');
  });

  it('service grants are not honoured yet', () => {
    expect(decideAccess(claims({ act: 'service' }), ctx())).toBe('UNSUPPORTED_ACTION');
  });
});
