import { readFileSync } from 'node:fs';

/** The version in package.json (the API document's `info.version`). */
export const SERVER_VERSION: string = (() => {
  // server/http/ when run from source, dist/server/http/ when built.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lockstep' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next
    }
  }
  return '0.0.0';
})();
