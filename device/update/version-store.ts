import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The versions folder of the agent's data dir: each installed artefact under `versions/<version>/artefact`, and a
 * `current.json` pointer saying which version runs, which ran before, and whether the current one is on trial
 * (installed, not yet confirmed by its health check). The pointer is replaced atomically (write, then rename), so
 * a power cut leaves either the old or the new pointer, never half of one.
 */
export interface VersionPointer {
  current: string | null;
  previous: string | null;
  /** Set while a new version has not proved it comes up; `starts` counts the starts it had to do so. */
  trial: { version: string; commandId: string; starts: number; report: string } | null;
  /** Update commands already finished here (newest last, bounded): a resend is answered, not run again. */
  done: { commandId: string; state: 'applied' | 'failed' | 'rolled_back'; reason?: string }[];
}

const MAX_DONE = 50;

export class VersionStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async read(initial: string | null): Promise<VersionPointer> {
    try {
      return JSON.parse(await readFile(path.join(this.#dir, 'current.json'), 'utf8')) as VersionPointer;
    } catch {
      return { current: initial, previous: null, trial: null, done: [] };
    }
  }

  async write(p: VersionPointer): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.#dir, 'current.json');
    const bounded = { ...p, done: p.done.slice(-MAX_DONE) };
    await writeFile(`${file}.tmp`, JSON.stringify(bounded), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async install(version: string, bytes: Uint8Array): Promise<void> {
    const dir = path.join(this.#dir, 'versions', version);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, 'artefact.tmp'), bytes, { mode: 0o600 });
    await rename(path.join(dir, 'artefact.tmp'), path.join(dir, 'artefact'));
  }

  async artefact(version: string): Promise<Buffer | null> {
    try {
      return await readFile(path.join(this.#dir, 'versions', version, 'artefact'));
    } catch {
      return null;
    }
  }
}
