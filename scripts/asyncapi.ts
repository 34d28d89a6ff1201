/**
 * `npm run asyncapi`: writes docs/asyncapi.yaml from the protocol's schemas (shared/asyncapi/asyncapi-document.ts).
 * `--check`: exits 1 when the committed file differs from a fresh build (test/protocol/asyncapi.test.ts does the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { asyncApiYaml } from '../shared/asyncapi/asyncapi-document.js';

const file = new URL('../docs/asyncapi.yaml', import.meta.url);
const fresh = asyncApiYaml();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing: differs
  }
  if (committed !== fresh) {
    process.stderr.write('docs/asyncapi.yaml is out of date: run `npm run asyncapi`\n');
    process.exit(1);
  }
} else {
  writeFileSync(file, fresh);
  process.stderr.write(`docs/asyncapi.yaml written (${fresh.length} bytes)\n`);
}
