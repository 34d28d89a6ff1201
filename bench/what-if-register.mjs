/**
 * `node --import` preload of a bench host that runs with module-replacing what-if patches: registers
 * bench/what-if-loader.mjs with the replacements the host's config names (bench/what-if.ts MODULE_PATCHES).
 */
import { register } from 'node:module';

const config = JSON.parse(process.env.LOCKSTEP_BENCH_CHILD ?? '{}');
const replace = {};
for (const [from, to] of config.moduleReplacements ?? []) {
  replace[new URL(`../${from}`, import.meta.url).href] = new URL(`./${to}`, import.meta.url).href;
}
register('./what-if-loader.mjs', import.meta.url, { data: { replace } });
