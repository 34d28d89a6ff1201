import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { round } from './stats.js';

/** Durable SQLite commits per second on this machine's disk, as the server opens its database. */
export interface CommitRates {
  /** One small row per commit: the rate at which a server committing each message alone can go. */
  onePerCommit: number;
  /** Rows per second when 100 go in one commit (one fsync shared): what grouping commits would allow. */
  rowsGrouped: number;
}

/**
 * The raw limit under every "one transaction per message" path: WAL with synchronous = FULL (the server's
 * settings), prepared statements, nothing else. Runs for about `ms` in each mode, in `dir`.
 */
export function measureCommits(dir: string, ms: number): CommitRates {
  const folder = mkdtempSync(path.join(dir, 'commits-'));
  const db = new SQLite(path.join(folder, 'commits.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = 'x'.repeat(200);
    const rate = (perCommit: number) => {
      const commit = db.transaction(() => {
        for (let k = 0; k < perCommit; k++) insert.run(body);
      });
      let rows = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        commit();
        rows += perCommit;
      }
      return rows / ((performance.now() - start) / 1000);
    };
    return { onePerCommit: round(rate(1)), rowsGrouped: round(rate(100)) };
  } finally {
    db.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
