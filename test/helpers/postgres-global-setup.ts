import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { postgresOwned, removeCluster } from './postgres-cluster.js';

/**
 * One Postgres cluster for the whole run. Nothing starts here: the folder is made and handed to the test files,
 * and the first file that needs Postgres starts the cluster in it (a run without such a file pays nothing).
 * The teardown stops the cluster, if one started, and removes the folder.
 */
export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lockstep-pg-'));
  chmodSync(root, 0o755);
  postgresOwned(root);
  project.provide('postgresRoot', root);
  return () => removeCluster(root);
}
