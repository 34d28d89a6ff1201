import pg from 'pg';
import { inject } from 'vitest';
import { clusterPort } from './postgres-cluster.js';

/**
 * The run's Postgres cluster (one per `vitest run`, see postgres-global-setup.ts), as one test file sees it: it
 * creates the file's own databases in it.
 */
export interface TestPostgres {
  port: number;
  /** A new empty database on the cluster; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops the databases this handle created (the cluster itself is stopped once, when the run ends). */
  stop(): Promise<void>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder the run's Postgres cluster lives in, once a test file asked for it. */
    postgresRoot: string;
  }
}

let counter = 0;

/** The run's Postgres cluster (started on first use); `createDatabase` gives this file a database of its own. */
export async function startPostgres(): Promise<TestPostgres> {
  const port = await clusterPort(inject('postgresRoot'));
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const created: string[] = [];
  const query = async (text: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    async createDatabase(name = `t${process.pid}_${++counter}_${Date.now().toString(36)}`) {
      await query(`create database ${name}`);
      created.push(name);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      // Hygiene only (the cluster goes at the end of the run): a failure here is not the test's.
      for (const name of created.splice(0)) await query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    },
  };
}
