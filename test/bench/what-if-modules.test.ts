import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleReplacements } from '../../bench/what-if.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs a module in a fresh Node process started as a bench host with `patches` would be, and returns its stdout. */
function runAsHost(patches: string[], code: string): string {
  const config = { moduleReplacements: moduleReplacements(patches as Parameters<typeof moduleReplacements>[0]) };
  return execFileSync(process.execPath, ['--import', 'tsx', '--import', path.join(ROOT, 'bench/what-if-register.mjs'), '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, LOCKSTEP_BENCH_CHILD: JSON.stringify(config) },
    encoding: 'utf8',
  }).trim();
}

const probe = `const m = await import(${JSON.stringify(path.join(ROOT, 'server/sync/release-compartments.ts'))}); console.log('WHAT_IF_REPLACEMENT' in m ? 'replaced' : 'shipped');`;

describe('what-if module patches', () => {
  it('replace the server module wherever it is imported, only when asked', () => {
    expect(runAsHost(['release-guard'], probe)).toBe('replaced');
    expect(runAsHost([], probe)).toBe('shipped');
  });

  it('map each module patch to its original and its replacement, and library patches to none', () => {
    expect(moduleReplacements(['group-commit', 'statement-cache'])).toEqual([['server/sync/handle-events.ts', 'what-if/handle-events.ts']]);
  });
});
