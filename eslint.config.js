// Lint for the whole tree: typescript-eslint's recommended rules (not the type-checked set, so lint stays
// fast), the folder boundaries written as import rules, no import cycles, and the dashboard's browser modules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Who may import whom, by folder (from the repository root). Files in `from` (and its sub-folders) must not
// import the folders in `forbid`; `allow` keeps single files of a forbidden folder importable (the server's
// in-process entry point). A sub-folder's rule adds to its parent's. test/ may import anything.
const boundaries = [
  { from: 'shared', forbid: ['server', 'device', 'simulator', 'bench', 'test'], why: 'shared/ is the wire protocol, used by every side' },
  { from: 'device', forbid: ['server', 'simulator', 'bench', 'test'], why: 'the agent runs alone on a locker: its hardware is chosen by configuration and the server is reached over the network' },
  { from: 'server', forbid: ['device', 'simulator', 'bench', 'test'], why: 'the server ships without the agent, the simulator and the benches' },
  { from: 'simulator', forbid: ['server', 'bench', 'test'], allow: ['server/index.js'], why: 'the simulator starts the server through server/index.ts only; API types live in shared/' },
  { from: 'bench', forbid: ['server', 'test'], allow: ['server/index.js'], why: 'benches start the server through server/index.ts only, like the simulator' },
  { from: 'server/parcels', forbid: ['server/sync'], why: 'inbound device handling (sync) calls into parcels, never the other way round; desired state is its own module' },
  // The carriers' typed client (issue 16, api): shipped on its own, it speaks HTTP and knows only the shared types.
  { from: 'client', forbid: ['server', 'device', 'simulator', 'bench', 'test'], why: 'the client ships to carriers without the rest: API types live in shared/' },
];

// Imports are relative (`../server/x.js`), so the specifier that reaches a folder depends on how deep the
// importing file is. One config block per folder and depth, with the patterns written for that depth:
// `../sync/` from server/parcels/x.ts, `../../server/x.js` from simulator/sub/x.ts, never a bare `server/`
// that could be a sub-folder of the same name.
const MAX_DEPTH = 6;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const segments = (path) => path.split('/');

const except = (rule, target) => {
  const kept = (rule.allow ?? []).filter((file) => file.startsWith(`${target}/`));
  return kept.length > 0 ? ` other than ${kept.join(', ')}` : '';
};

/** Regex sources matching a relative specifier from a file in `fileDir` that lands in `target` or below. */
function specifiersFor(fileDir, target, allow) {
  const here = segments(fileDir);
  const there = segments(target);
  let common = 0;
  while (common < here.length && common < there.length && here[common] === there[common]) common += 1;
  const routes = new Set([
    `${'\\.\\./'.repeat(here.length - common)}${there.slice(common).map(escape).join('/')}`,
    `${'\\.\\./'.repeat(here.length)}${there.map(escape).join('/')}`,
  ]);
  const kept = allow
    .filter((file) => file.startsWith(`${target}/`))
    .map((file) => `(?!${escape(file.slice(target.length + 1))}$)`)
    .join('');
  return [...routes].map((route) => `^${route}(?:/${kept}|$)`);
}

function boundaryBlocks() {
  const byDepth = [...boundaries].sort((a, b) => segments(a.from).length - segments(b.from).length);
  const blocks = [];
  for (const rule of byDepth) {
    // A sub-folder's block replaces its parent's for the same files, so it carries the parent's patterns too.
    const applying = byDepth.filter((r) => rule.from === r.from || rule.from.startsWith(`${r.from}/`));
    for (let extra = 0; extra + segments(rule.from).length <= MAX_DEPTH; extra += 1) {
      const fileDir = [rule.from, ...Array.from({ length: extra }, (_, i) => `sub${i}`)].join('/');
      const patterns = applying.flatMap((r) =>
        r.forbid.flatMap((target) =>
          specifiersFor(fileDir, target, r.allow ?? []).map((regex) => ({
            regex,
            message: `${r.from}/ must not import ${target}/${except(r, target)}: ${r.why}.`,
          })),
        ),
      );
      blocks.push({
        name: `lockstep/boundaries/${rule.from}/+${extra}`,
        files: [`${rule.from}/${'*/'.repeat(extra)}*.{ts,js,mjs}`],
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      });
    }
  }
  return blocks;
}

export default defineConfig([
  // test/lint/.tmp-*: the cycle test's scratch modules (a cycle on purpose), should a run leave them behind.
  globalIgnores(['**/node_modules/', 'dist/', 'coverage/', 'data/', '.tmp/', 'test/lint/.tmp-*/', '**/*.d.ts']),

  {
    name: 'lockstep/typescript',
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // Type-only imports are erased at run time, so the rule ignores them; a runtime cycle is an error.
      // External packages are not parsed: a cycle through node_modules is not ours to fix.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `_`-prefixed names are deliberately unused (parameters kept for a signature, skipped tuple items).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },

  {
    name: 'lockstep/node-javascript',
    files: ['*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },

  {
    name: 'lockstep/dashboard',
    files: ['server/dashboard/public/js/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.browser, sourceType: 'module', ecmaVersion: 2022 },
  },

  // Screen (issue 14): the locker screen's page script runs in the kiosk browser.
  {
    name: 'lockstep/locker-screen',
    files: ['device/screen/public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.browser, sourceType: 'module', ecmaVersion: 2022 },
  },

  ...boundaryBlocks(),
]);
