import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The repository's own eslint.config.js, run through ESLint's Node API on snippets placed at virtual paths:
// the folder boundaries and the cycle rule must fail the lint when broken, and only then.
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const eslint = new ESLint({ cwd: root });

async function ruleIds(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const importOf = (specifier: string): string => `import { thing } from '${specifier}';\nexport const used = thing;\n`;

describe('folder boundaries', () => {
  it.each([
    ['shared/x.ts', '../server/config.js'],
    ['shared/x.ts', '../device/hardware.js'],
    ['shared/x.ts', '../simulator/simulated-locker.js'],
    ['device/x.ts', '../simulator/simulated-locker.js'],
    ['device/x.ts', '../server/config.js'],
    ['device/sync/x.ts', '../../server/config.js'],
    ['simulator/x.ts', '../server/parcels/parcel-views.js'],
    ['simulator/x.ts', '../server/create-server.js'],
    ['simulator/sub/x.ts', '../../server/lockers/locker-views.js'],
    ['bench/x.ts', '../server/lockers/register-locker.js'],
    ['server/x.ts', '../simulator/simulated-locker.js'],
    ['server/parcels/x.ts', '../sync/handle-events.js'],
  ])('%s importing %s fails the lint', async (path, specifier) => {
    expect(await ruleIds(path, importOf(specifier))).toEqual(['no-restricted-imports']);
  });

  it('a type-only import across a boundary fails too (API types live in shared/)', async () => {
    const code = "import type { ParcelView } from '../server/parcels/parcel-views.js';\nexport type V = ParcelView;\n";
    expect(await ruleIds('simulator/x.ts', code)).toEqual(['no-restricted-imports']);
  });

  it.each([
    ['simulator/x.ts', '../server/index.js'],
    ['simulator/sub/x.ts', '../../server/index.js'],
    ['bench/x.ts', '../server/index.js'],
    ['simulator/x.ts', '../shared/topics.js'],
    ['simulator/x.ts', '../device/hardware.js'],
    ['device/x.ts', '../shared/topics.js'],
    // A sub-folder that happens to be called server/ or simulator/ is not the top-level folder.
    ['device/sync/x.ts', '../server/x.js'],
    ['device/x.ts', './simulator/x.js'],
    ['server/sync/x.ts', '../parcels/device-effects.js'],
    ['test/x.ts', '../server/parcels/device-effects.js'],
    ['test/sub/x.ts', '../../simulator/simulated-locker.js'],
  ])('%s may import %s', async (path, specifier) => {
    expect(await ruleIds(path, importOf(specifier))).toEqual([]);
  });
});

describe('the rest of the config', () => {
  it('keeps no-explicit-any on for TypeScript', async () => {
    expect(await ruleIds('server/x.ts', 'export const x = (y: any): unknown => y;\n')).toEqual([
      '@typescript-eslint/no-explicit-any',
    ]);
  });

  it('lints the dashboard as browser modules', async () => {
    const path = 'server/dashboard/public/js/x.js';
    expect(await ruleIds(path, 'export const title = () => document.title;\n')).toEqual([]);
    expect(await ruleIds(path, 'export const env = () => process.env;\n')).toEqual(['no-undef']);
  });
});

describe('import cycles', () => {
  // The scratch folder is ignored by `eslint .` (a leftover must not fail the lint), so lint it with ignores off.
  const scratch = new ESLint({ cwd: root, ignore: false });
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(root, 'test/lint/.tmp-cycle-'));
    // a <-> b is a runtime cycle; c -> a is not part of one; d <-> e only through a type import.
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a.js';\nexport const b = (): number => (a.length > 1 ? 0 : 1);\n");
    writeFileSync(join(dir, 'c.ts'), "import { a } from './a.js';\nexport const c = a;\n");
    writeFileSync(join(dir, 'd.ts'), "import type { E } from './e.js';\nexport type D = { e?: E };\n");
    writeFileSync(join(dir, 'e.ts'), "import type { D } from './d.js';\nexport type E = { d?: D };\nexport const e = 1;\n");
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two modules importing each other fail the lint, on both sides', async () => {
    const results = await scratch.lintFiles([join(dir, 'a.ts'), join(dir, 'b.ts')]);
    const ids = results.map((r) => r.messages.map((m) => m.ruleId));
    expect(ids).toEqual([['import-x/no-cycle'], ['import-x/no-cycle']]);
  });

  it('a module that only imports into a cycle, and a cycle of type imports, pass', async () => {
    const results = await scratch.lintFiles([join(dir, 'c.ts'), join(dir, 'd.ts'), join(dir, 'e.ts')]);
    expect(results.flatMap((r) => r.messages.map((m) => m.ruleId))).toEqual([]);
  });
});

// The carriers' typed client (issue 16, api).
describe('client/ boundaries', () => {
  it.each([
    ['client/x.ts', '../server/errors.js'],
    ['client/x.ts', '../simulator/fleet.js'],
    ['client/x.ts', '../device/hardware.js'],
  ])('%s importing %s fails the lint', async (path, specifier) => {
    expect(await ruleIds(path, importOf(specifier))).toEqual(['no-restricted-imports']);
  });
  it('client/ may import shared/', async () => {
    expect(await ruleIds('client/x.ts', importOf('../shared/api/parcels.js'))).toEqual([]);
  });
});
