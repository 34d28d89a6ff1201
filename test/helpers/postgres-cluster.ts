import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.js';

/* The run's one Postgres cluster: no vitest imports here, the global setup (main process) uses this file too. */

/** Where Debian's `postgresql` package puts initdb and pg_ctl (newest version). Throws, loudly, when missing. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('Postgres is not installed (no /usr/lib/postgresql/*/bin/initdb): run .ci/system-deps.sh');
  return path.join(root, versions[0], 'bin');
}

/** Runs a Postgres binary as the `postgres` system user when we are root (Postgres refuses to run as root). */
export function asPostgres(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed (${r.status}): ${r.stderr || r.stdout}`);
}

/** A folder Postgres (run as `postgres` when we are root) can own. */
export function postgresOwned(dir: string): void {
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
}

/**
 * The cluster's port, starting the cluster if no file of this run did yet. Test files run in several processes: the
 * first to make `<root>/starting` runs initdb and pg_ctl and publishes the port in `<root>/port`; the others wait for it.
 */
export async function clusterPort(root: string): Promise<number> {
  const portFile = path.join(root, 'port');
  const errorFile = path.join(root, 'error');
  let starter = true;
  try {
    mkdirSync(path.join(root, 'starting'));
  } catch {
    starter = false;
  }
  if (starter) {
    try {
      const bin = postgresBinDir();
      const data = path.join(root, 'data');
      asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync']);
      const port = await freePort();
      const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
      asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', path.join(root, 'log'), '-w', '-t', '60', 'start']);
      writeFileSync(`${portFile}.tmp`, String(port));
      renameSync(`${portFile}.tmp`, portFile);
      return port;
    } catch (err) {
      writeFileSync(errorFile, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(portFile)) return Number(readFileSync(portFile, 'utf8'));
    if (existsSync(errorFile)) throw new Error(`the shared Postgres cluster did not start: ${readFileSync(errorFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for the shared Postgres cluster to start');
}

/** Stops the cluster in `root` if one was started there, and removes the folder. */
export function removeCluster(root: string): void {
  try {
    const data = path.join(root, 'data');
    if (existsSync(path.join(data, 'postmaster.pid'))) asPostgres(path.join(postgresBinDir(), 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
