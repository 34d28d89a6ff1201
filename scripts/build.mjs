#!/usr/bin/env node
// `npm run build`: compiles server/, device/, shared/, simulator/ (and client/ when present) to dist/ as
// tsconfig.build.json says (`--typecheck`: with the full compiler, types checked), then copies the files they serve or read that are not TypeScript (the dashboard's public/,
// the locker screen's public/, ...) next to the compiled code, so `new URL('./public/', import.meta.url)` finds
// them from dist/ as it does from the sources.
// `--if-stale` (npm start, npm install): does nothing when dist/ is newer than every source file, or when there
// are no sources to build from (a runtime image holds dist/ only).
// Plain JavaScript on purpose: it runs before anything is compiled, and without tsx.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * Transpiles every file tsconfig.build.json includes, one file at a time (TypeScript's transpileModule: the code is
 * written for it, `isolatedModules` and `verbatimModuleSyntax`), with its compiler options. Seconds instead of a
 * minute: the types are checked by `npm run typecheck` (and `npm test`), not here; `--typecheck` runs the full tsc.
 */
async function compile() {
  let ts;
  try {
    ts = createRequire(import.meta.url)('typescript');
  } catch {
    // `npm install --omit=dev` of a checkout that was built before: keep the build it has.
    if (ifStale && existsSync(path.join(DIST, 'server', 'main.js'))) {
      process.stderr.write('build: typescript is not installed (a dev dependency); dist/ is kept as it is\n');
      process.exit(0);
    }
    process.stderr.write('build: typescript is not installed (a dev dependency): run `npm install` first\n');
    process.exit(1);
  }
  const configFile = path.join(ROOT, 'tsconfig.build.json');
  if (process.argv.includes('--typecheck')) return typecheckAndEmit(configFile);
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(d) });
  if (!parsed || parsed.errors.length) fail(parsed?.errors[0]);
  // ES modules, as the NodeNext compiler emits them for this `"type": "module"` package (one file alone cannot tell).
  const options = { ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: false, declaration: false, incremental: false, composite: false };
  for (const file of parsed.fileNames) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: true });
    const problem = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
    if (problem) fail(problem);
    const js = path.join(DIST, path.relative(ROOT, file)).replace(/\.m?tsx?$/, '.js');
    mkdirSync(path.dirname(js), { recursive: true });
    writeFileSync(js, out.sourceMapText ? out.outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${path.basename(js)}.map`) : out.outputText);
    if (out.sourceMapText) {
      const map = JSON.parse(out.sourceMapText);
      map.file = path.basename(js);
      map.sources = [path.relative(path.dirname(js), file)];
      writeFileSync(`${js}.map`, JSON.stringify(map));
    }
  }

  function fail(diagnostic) {
    const text = diagnostic ? ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') : 'cannot read tsconfig.build.json';
    process.stderr.write(`build: ${diagnostic?.file ? `${path.relative(ROOT, diagnostic.file.fileName)}: ` : ''}${text}\n`);
    process.exit(1);
  }
}

/** The full compiler (types checked), as a child process; a signal to the build stops it too: no orphan. */
function typecheckAndEmit(configFile) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const child = spawn(process.execPath, [tsc, '-p', configFile], { stdio: 'inherit', cwd: ROOT });
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
