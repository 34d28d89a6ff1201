import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { enrol } from '../../device/identity.js';
import { LockstepError } from '../../server/errors.js';
import { importLockers, parseLockerImport } from '../../server/lockers/import-lockers.js';
import type { LockerView } from '../../shared/api/lockers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);
const HEADER = 'name,lat,lon,compartments';
const csv = (n: number) => [HEADER, ...Array.from({ length: n }, (_, i) => `"Locker ${i}, Main St",52.${i % 100},21.${i % 50},A1:S A2:S B1:M`)].join('\n');

function problemsOf(fn: () => unknown): { code: string; problems: { row: number; code: string }[] } {
  try {
    fn();
  } catch (err) {
    if (err instanceof LockstepError) return { code: err.code, problems: (err.details?.problems ?? []) as { row: number; code: string }[] };
    throw err;
  }
  throw new Error('no error');
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
}, 30_000);
afterAll(async () => {
  await t?.close();
});

describe('bulk registration of lockers', () => {
  it('lists every bad row with its number and code, and accepts quoted names with commas', () => {
    const text = [HEADER, 'Good,52.1,21.0,A1:S', 'Bad size,52.1,21.0,A1:XXL', 'Twice,52.1,21.0,A1:S A1:M', 'No place,,21.0,A1:S', 'Short,52.1,21.0'].join('\n');
    const report = problemsOf(() => parseLockerImport(text, 'csv'));
    expect(report.code).toBe('IMPORT_INVALID');
    expect(report.problems.map((p) => [p.row, p.code])).toEqual([
      [2, 'VALIDATION_FAILED'],
      [3, 'DUPLICATE_COMPARTMENT'],
      [4, 'VALIDATION_FAILED'],
      [5, 'VALIDATION_FAILED'],
    ]);
    expect(parseLockerImport(csv(2), 'csv')[1]?.name).toBe('Locker 1, Main St');
    expect(problemsOf(() => parseLockerImport('[{"name":"x"}]', 'json')).problems[0]?.row).toBe(1);
    expect(problemsOf(() => parseLockerImport(HEADER, 'csv')).code).toBe('IMPORT_EMPTY');
    expect(problemsOf(() => parseLockerImport('name;lat\nx;1', 'csv')).problems[0]?.row).toBe(0);
  });

  it('imports thousands of lockers in batches, each with an enrolment ticket its controller can use', async () => {
    const db = t.server.ctx.db;
    const before = await db.selectFrom('lockers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const tickets = await importLockers(db, parseLockerImport(csv(2500), 'csv'), 'admin:test', Date.now());
    expect(tickets).toHaveLength(2500);
    expect(new Set(tickets.map((x) => x.lockerId)).size).toBe(2500);
    const after = await db.selectFrom('lockers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n) - Number(before.n)).toBe(2500);
    const last = tickets[2499]!;
    const view = await t.api.get<LockerView>(`/v1/lockers/${last.lockerId}`);
    expect(view.compartments.map((c) => c.id)).toEqual(['A1', 'A2', 'B1']);
    const { publicKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const enrolled = await enrol(t.httpUrl, last.lockerId, last.token, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
    expect(enrolled.lockerId).toBe(last.lockerId);
  });

  it('writes nothing when a batch fails part of the way', async () => {
    const db = t.server.ctx.db;
    // The 1,500th locker is refused by the database itself, after the first batch of a thousand went in.
    await sql`create trigger refuse_boom before insert on lockers when new.name = 'boom' begin select raise(abort, 'boom'); end`.execute(db);
    const lockers = parseLockerImport(csv(2000), 'csv').map((l, i) => (i === 1499 ? { ...l, name: 'boom' } : l));
    const count = async () => Number((await db.selectFrom('lockers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    await expect(importLockers(db, lockers, 'admin:test', Date.now())).rejects.toThrow(/boom/);
    expect(await count()).toBe(before);
    await sql`drop trigger refuse_boom`.execute(db);
  });

  it('npm run lockers:import: tickets to an owner-only file, or the report of bad rows and exit code 2 with nothing written', async () => {
    const good = path.join(t.dir, 'good.csv');
    const bad = path.join(t.dir, 'bad.csv');
    writeFileSync(good, csv(3));
    writeFileSync(bad, [HEADER, 'Good,52.1,21.0,A1:S', 'Bad,52.1,21.0,A1:Q'].join('\n'));
    const env = { ...process.env, DATA_DIR: path.join(t.dir, 'cli') };
    const cli = (file: string) => run(process.execPath, ['--import', 'tsx', 'server/lockers/import-cli.ts', file], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const [ok, refused] = await Promise.all([cli(good), cli(bad)]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ imported: 3, compartments: 9, database: 'sqlite' });
    const tickets = path.join(t.dir, 'good.tickets.csv');
    expect(statSync(tickets).mode & 0o777).toBe(0o600);
    expect(readFileSync(tickets, 'utf8').trim().split('\n')).toHaveLength(4);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({ code: 'IMPORT_INVALID', count: 1, problems: [{ row: 2, code: 'VALIDATION_FAILED' }] });
    expect(() => statSync(path.join(t.dir, 'bad.tickets.csv'))).toThrow();
  }, 60_000);
});
