import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configFromEnv } from '../config.js';
import { LockstepError } from '../errors.js';
import { openDatabase } from '../store/database.js';
import { importLockers, parseLockerImport } from './import-lockers.js';

const USAGE = 'usage: npm run lockers:import -- FILE.csv|FILE.json [--out TICKETS.csv]';

/**
 * `npm run lockers:import -- FILE`: registers every locker of a CSV or JSON file in one transaction, on the database
 * the server's configuration names (DATABASE_URL, or the SQLite file in DATA_DIR). The enrolment tickets go to a
 * new file readable by its owner only (the tokens are shown nowhere else); a JSON summary goes to stdout. A bad
 * row stops everything: the report (row numbers and codes) goes to stderr, exit code 2, nothing written.
 */
async function main(argv: string[]): Promise<number> {
  const file = argv.find((a) => !a.startsWith('--'));
  const outAt = argv.indexOf('--out');
  if (!file || (outAt >= 0 && !argv[outAt + 1])) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const out = outAt >= 0 ? (argv[outAt + 1] as string) : `${file.replace(/\.(csv|json)$/i, '')}.tickets.csv`;
  if (existsSync(out)) {
    process.stderr.write(`${out} exists: the tickets file is never overwritten (choose another with --out)\n`);
    return 2;
  }
  const config = configFromEnv(process.env);
  const format = /\.json$/i.test(file) ? 'json' : 'csv';
  const t0 = performance.now();
  const lockers = parseLockerImport(readFileSync(file, 'utf8'), format);
  const parsed = performance.now();
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl, poolSize: 2 } : { kind: 'sqlite', file: path.join(config.dataDir, 'lockstep.sqlite') });
  try {
    const tickets = await importLockers(db, lockers, 'admin:import-cli', Date.now());
    const written = performance.now();
    const lines = ['row,lockerId,name,token,expiresAt', ...tickets.map((t) => [t.row, t.lockerId, JSON.stringify(t.name), t.token, t.expiresAt].join(','))];
    writeFileSync(out, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
    const seconds = (written - parsed) / 1000;
    const summary = {
      imported: tickets.length,
      compartments: lockers.reduce((n, l) => n + l.compartments.length, 0),
      database: config.databaseUrl ? 'postgres' : 'sqlite',
      parseSeconds: Number(((parsed - t0) / 1000).toFixed(2)),
      writeSeconds: Number(seconds.toFixed(2)),
      lockersPerSecond: Math.round(tickets.length / Math.max(seconds, 0.001)),
      tickets: out,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof LockstepError || err instanceof ConfigError) {
      const details = err instanceof LockstepError ? err.details : { problems: err.problems };
      process.stderr.write(`${JSON.stringify({ code: err.code, message: err.message, ...details })}\n`);
      process.exit(2);
    }
    process.stderr.write(`import failed, nothing imported: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
