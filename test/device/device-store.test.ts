import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceStore } from '../../device/store/device-store.js';

let dir: string;
let n = 0;
const ids = () => `e${++n}`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('device store (a real SQLite file)', () => {
  it('numbers events 1, 2, 3… and keeps the numbering across a reopen', async () => {
    const file = path.join(dir, 'd.sqlite');
    let store = await DeviceStore.open(file, ids);
    const a = await store.record([{ type: 'door.opened', compartmentId: 'A1' }, { type: 'door.closed', compartmentId: 'A1' }], { bootId: 'b1', now: 1 });
    expect(a.map((e) => e.seq)).toEqual([1, 2]);
    await store.close();
    store = await DeviceStore.open(file, ids);
    const b = await store.record([{ type: 'code.rejected', reason: 'UNKNOWN_CODE' }], { bootId: 'b2', now: 2 });
    expect(b[0]).toMatchObject({ seq: 3, bootId: 'b2', at: 2 });
    expect((await store.pending(10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('deletes events only when they are acknowledged', async () => {
    const store = await DeviceStore.open(path.join(dir, 'd.sqlite'), ids);
    await store.record([{ type: 'door.opened' }, { type: 'door.closed' }, { type: 'door.opened' }], { bootId: 'b', now: 1 });
    await store.acknowledge([1, 3]);
    expect((await store.pending(10)).map((e) => e.seq)).toEqual([2]);
    expect(await store.outboxSize()).toBe(1);
    await store.close();
  });

  it('marks a grant used once; a second mark reports it was already used, also after a reopen', async () => {
    const file = path.join(dir, 'd.sqlite');
    let store = await DeviceStore.open(file, ids);
    expect(await store.db.transaction().execute((trx) => store.markUsed(trx, 'j1', 100, 1))).toBe(true);
    await store.close();
    store = await DeviceStore.open(file, ids);
    expect(await store.isUsed('j1')).toBe(true);
    expect(await store.db.transaction().execute((trx) => store.markUsed(trx, 'j1', 100, 2))).toBe(false);
    await store.close();
  });

  it('writes an event and the change it describes together, or neither', async () => {
    const store = await DeviceStore.open(path.join(dir, 'd.sqlite'), ids);
    await store.ensureCompartments([{ id: 'A1', size: 'S' }]);
    await expect(
      store.record([{ type: 'parcel.deposited', compartmentId: 'A1', parcelId: 'p1' }], { bootId: 'b', now: 1 }, async (trx) => {
        await store.setContents(trx, 'A1', 'p1');
        throw new Error('power cut');
      }),
    ).rejects.toThrow('power cut');
    expect(await store.outboxSize()).toBe(0);
    expect((await store.compartment('A1'))?.parcel_id).toBeNull();
    expect(await store.lastSeq()).toBe(0);
    await store.close();
  });

  it('finds a usable grant by PIN hash before a used one that happens to share the PIN', async () => {
    const store = await DeviceStore.open(path.join(dir, 'd.sqlite'), ids);
    const claims = (jti: string, exp: number) => ({ iss: 'lockstep' as const, aud: 'lk', sub: `p_${jti}`, jti, act: 'pickup' as const, cmp: 'A1', ph: 'h'.repeat(43), iat: 0, nbf: 0, exp });
    await store.applyDesired({ version: 1, replaceAll: true, add: [{ token: 'old', claims: claims('old', 2000) }, { token: 'new', claims: claims('new', 1000) }], revoke: [], now: 1 });
    await store.db.transaction().execute((trx) => store.markUsed(trx, 'old', 2000, 1));
    expect((await store.grantByPinHash('h'.repeat(43)))?.jti).toBe('new');
    await store.db.transaction().execute((trx) => store.markUsed(trx, 'new', 1000, 1));
    expect((await store.grantByPinHash('h'.repeat(43)))?.jti).toBe('old');
    await store.close();
  });
});
