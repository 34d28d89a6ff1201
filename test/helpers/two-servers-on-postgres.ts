import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type TestPostgres } from './postgres.js';
import { startTestServer, type TestServer } from './test-server.js';

export interface TwoServers {
  readonly pg: TestPostgres;
  /** Two server processes' worth of servers (in this process) sharing one fresh Postgres database and data folder. */
  readonly a: TestServer;
  readonly b: TestServer;
  close(): Promise<void>;
}

/** Two servers on one new database of the run's Postgres cluster, as two processes of one deployment would be. */
export async function startTwoServersOnPostgres(label: string): Promise<TwoServers> {
  const pg = await startPostgres();
  const databaseUrl = await pg.createDatabase();
  const dir = mkdtempSync(path.join(os.tmpdir(), `lockstep-pg-${label}-`));
  const a = await startTestServer({ databaseUrl, instanceId: 'server-a' }, undefined, undefined, { dir });
  const b = await startTestServer({ databaseUrl, instanceId: 'server-b' }, undefined, undefined, { dir });
  return {
    pg,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
