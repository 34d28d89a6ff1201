import { describe, expect, it } from 'vitest';
import { isRetryableTransactionError, retryTransaction } from '../../server/store/retry.js';

describe('transaction retry', () => {
  it('knows the aborts that changed nothing: Postgres deadlock and serialization failure, SQLite busy', () => {
    for (const code of ['40P01', '40001', 'SQLITE_BUSY']) expect(isRetryableTransactionError({ code })).toBe(true);
    for (const err of [{ code: '23505' }, new Error('x'), null, undefined, 'text']) expect(isRetryableTransactionError(err)).toBe(false);
  });

  it('runs the transaction again after a deadlock, and gives up after the given tries', async () => {
    let calls = 0;
    const once = await retryTransaction(async () => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return 'booked';
    });
    expect([once, calls]).toEqual(['booked', 2]);

    calls = 0;
    const always = retryTransaction(async () => {
      calls += 1;
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    }, 3);
    await expect(always).rejects.toThrow('deadlock detected');
    expect(calls).toBe(3);
  });

  it('does not retry other errors (a refusal is final)', async () => {
    let calls = 0;
    await expect(retryTransaction(async () => {
      calls += 1;
      throw Object.assign(new Error('full'), { code: 'NO_FREE_COMPARTMENT' });
    })).rejects.toThrow('full');
    expect(calls).toBe(1);
  });
});
