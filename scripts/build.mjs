#!/usr/bin/env node
// `npm run build`: compiles server/, device/, shared/, simulator/ (and client/ when present) to dist/ with
// tsconfig.build.json, then copies the files they serve or read that are not TypeScript (the dashboard's public/,
// the locker screen's public/, ...) next to the compiled code, so `new URL('./public/', import.meta.url)` finds
// them from dist/ as it does from the sources.
// `--if-stale` (npm start, npm install): does nothing when dist/ is newer than every source file, or when there
// are no sources to build from (a runtime image holds dist/ only).
// Plain JavaScript on purpose: it runs before anything is compiled, and without tsx.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
/** The folders compiled to dist/ (the "include" of tsconfig.build.json). */
export const SOURCE_ROOTS = ['server', 'device', 'shared', 'simulator', 'client'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Every file under the source roots, as paths relative to the repository. */
function sourceFiles() {
  const out = [];
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  for (const root of SOURCE_ROOTS) if (existsSync(path.join(ROOT, root))) walk(root);
  return out;
}

const isTypeScript = (file) => file.endsWith('.ts') || file.endsWith('.tsx') || file.endsWith('.mts');

function isStale(files) {
  if (!existsSync(STAMP) || !existsSync(path.join(DIST, 'server', 'main.js'))) return true;
  const built = statSync(STAMP).mtimeMs;
  return [...files, ...CONFIG_FILES].some((f) => existsSync(path.join(ROOT, f)) && statSync(path.join(ROOT, f)).mtimeMs > built);
}

function compile() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    // `npm install --omit=dev` of a checkout that was built before: keep the build it has.
    if (ifStale && existsSync(path.join(DIST, 'server', 'main.js'))) {
      process.stderr.write('build: typescript is not installed (a dev dependency); dist/ is kept as it is\n');
      process.exit(0);
    }
    process.stderr.write('build: typescript is not installed (a dev dependency): run `npm install` first\n');
    process.exit(1);
  }
  // A signal to the build (Ctrl-C, `kill` of npm start while it builds) stops the compiler too: no orphan.
  const child = spawn(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      // Stopped by a signal: so is the build, and `npm start` goes no further.
      if (signal) process.exit(signal === 'SIGINT' ? 130 : 143);
      if (code !== 0) process.exit(code ?? 1);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve();
    });
  });
}

function copyAssets(files) {
  let copied = 0;
  for (const file of files) {
    if (isTypeScript(file)) continue;
    const to = path.join(DIST, file);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(path.join(ROOT, file), to);
    copied++;
  }
  return copied;
}

const ifStale = process.argv.includes('--if-stale');
const files = sourceFiles();
if (ifStale && !files.some(isTypeScript)) process.exit(0);
if (ifStale && !isStale(files)) process.exit(0);
const started = Date.now();
process.stderr.write('build: compiling to dist/ ...\n');
await compile();
const copied = copyAssets(files);
mkdirSync(DIST, { recursive: true });
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
process.stderr.write(`build: dist/ ready (${copied} asset files copied, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
