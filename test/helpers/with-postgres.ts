import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { clusterPort, postgresOwned, removeCluster } from './postgres-cluster.js';

/**
 * `tsx test/helpers/with-postgres.ts COMMAND ARGS…`: runs COMMAND with DATABASE_URL set to a fresh database on a throwaway
 * Postgres cluster (the tests' one: fsync off), then removes the cluster. For measuring tools such as the import.
 * Interrupted (SIGINT, SIGTERM, SIGHUP), it passes the signal to COMMAND and still removes the cluster once COMMAND
 * has ended: a synchronous wait left the cluster running whenever the wrapper itself was killed.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const root = mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-pg-'));
postgresOwned(root);
try {
  const port = await clusterPort(root);
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('create database bench');
  await admin.end();
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) throw new Error('usage: tsx test/helpers/with-postgres.ts COMMAND ARGS…');
  // WITH_POSTGRES_SOCKET=1: through the cluster's Unix socket (in its folder) instead of TCP on loopback.
  const url = process.env.WITH_POSTGRES_SOCKET === '1' ? `postgres://postgres@localhost:${port}/bench?host=${root}` : `postgres://postgres@127.0.0.1:${port}/bench`;
  const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url } });
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of SIGNALS) process.on(s, pass);
  process.exitCode = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      console.error(`with-postgres: ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
  });
  for (const s of SIGNALS) process.off(s, pass);
} finally {
  removeCluster(root);
}
