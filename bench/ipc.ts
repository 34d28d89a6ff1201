import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Request/response over the IPC channel of a benchmark child process (a server side or a client fleet), so the
 * load and the thing under load never share an event loop. Children also send notes (progress) unasked.
 */
export interface Note {
  note: string;
  [key: string]: unknown;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Message = Reply | Note;

export interface ChildOptions {
  onNote?: (note: Note) => void;
}

const CONFIG_ENV = 'LOCKSTEP_BENCH_CHILD';

export function benchEntry(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export class BenchChild {
  /** Every child still running, so a benchmark that failed or timed out leaves nothing behind. */
  static readonly #running = new Set<BenchChild>();
  readonly #proc: ChildProcess;
  /** The last few KiB the child wrote on stderr (shown live too): why it crashed, when it did. */
  #stderrTail = '';
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  readonly exited: Promise<number | null>;

  private constructor(proc: ChildProcess, onNote: ((n: Note) => void) | undefined, ready: (n: Note) => void) {
    this.#proc = proc;
    BenchChild.#running.add(this);
    proc.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-4096);
    });
    // A send to a child that just died is reported by its exit, not by an unhandled 'error' event.
    proc.on('error', () => undefined);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      BenchChild.#running.delete(this);
      const why = this.death?.error;
      for (const p of this.#pending.values()) p.reject(new Error(`bench child exited (${String(code ?? proc.signalCode)})${why ? `: ${why}` : ''}`));
      this.#pending.clear();
    });
    proc.on('message', (raw: Message) => {
      if ('note' in raw) {
        if (raw.note === 'ready') ready(raw);
        else onNote?.(raw);
        return;
      }
      const p = this.#pending.get(raw.id);
      if (!p) return;
      this.#pending.delete(raw.id);
      if (raw.ok) p.resolve(raw.value);
      else p.reject(new Error(raw.error));
    });
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  get alive(): boolean {
    return this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  /** How the child ended, and the first error line of its stderr (null while it runs). */
  get death(): { code: number | null; signal: string | null; error: string } | null {
    if (this.alive) return null;
    // The first line naming an error ("RangeError: …", "bench host failed TypeError: …"), stack frames left out.
    const line = this.#stderrTail.split('\n').find((l) => !/^\s*at /.test(l) && /\b\w*(Error|Exception)\b/.test(l)) ?? '';
    return { code: this.#proc.exitCode, signal: this.#proc.signalCode, error: line.trim().slice(0, 300) };
  }

  /** Starts `entry` (a .ts file in bench/) with `config`; resolves with the child and its ready note. */
  static start(entry: string, config: unknown, options: ChildOptions = {}): Promise<{ child: BenchChild; ready: Note }> {
    // BENCH_NODE_FLAGS: more V8/Node flags for every child (e.g. `--max-semi-space-size=32` to try a larger young
    // generation, docs/scale.md); space-separated.
    const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    const flags = ['--import', 'tsx', '--expose-gc', '--max-old-space-size=8192', ...extra];
    // stdout is dropped (server logs at the shipped level cost what they cost, then vanish); stderr shows crashes.
    const proc = spawn(process.execPath, [...flags, entry], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
    });
    return new Promise((resolve, reject) => {
      let child: BenchChild | undefined = undefined;
      const failed = (code: number | null) => {
        // The 'exit' event can come before the last stderr chunk: wait for the pipe to close to quote it.
        const quote = () => {
          const why = child?.death?.error;
          reject(new Error(`bench child ${entry} exited before ready (${String(code ?? proc.signalCode)})${why ? `: ${why}` : ''}`));
        };
        if (proc.stderr && !proc.stderr.closed) proc.stderr.once('close', quote);
        else quote();
      };
      proc.once('exit', failed);
      child = new BenchChild(proc, options.onNote, (ready) => {
        proc.off('exit', failed);
        if (child) resolve({ child, ready });
      });
    });
  }

  request<T>(t: string, body: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.#proc.connected) {
        reject(new Error(`bench child gone (${JSON.stringify(this.death)})`));
        return;
      }
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.#proc.send({ id, t, ...body });
    });
  }

  /** Asks the child to stop cleanly (a CPU profile is written on a clean exit); kills it after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    this.request('stop').catch(() => undefined);
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  static async killAll(): Promise<void> {
    await Promise.all([...BenchChild.#running].map((c) => c.kill()));
  }

  /** A crash: SIGKILL, no goodbye. */
  async kill(): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    this.#proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Open files one process may hold here (`ulimit -n`): every MQTT connection is one, on each side. */
export function openFileLimit(): number {
  try {
    const n = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

// ---- child side -------------------------------------------------------------------------------------------------

export type Handler = (msg: Record<string, unknown>) => Promise<unknown>;

export function childConfig<T>(): T {
  const raw = process.env[CONFIG_ENV];
  if (!raw) throw new Error(`${CONFIG_ENV} not set: this file runs as a child of bench/run.ts`);
  return JSON.parse(raw) as T;
}

export function note(n: Note): void {
  process.send?.(n);
}

/**
 * Answers requests with `handlers`. A `stop` handler's reply is sent before the process exits; the parent
 * going away ends the child too.
 */
export function serve(handlers: Record<string, Handler>, ready: Record<string, unknown> = {}): void {
  process.on('message', (msg: { id: number; t: string } & Record<string, unknown>) => {
    const handler = handlers[msg.t];
    if (!handler) {
      process.send?.({ id: msg.id, ok: false, error: `unknown request ${msg.t}` });
      return;
    }
    handler(msg).then(
      (value) => {
        process.send?.({ id: msg.id, ok: true, value: value ?? null }, () => {
          if (msg.t === 'stop') process.exit(0);
        });
      },
      (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  note({ note: 'ready', ...ready });
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  g?.();
}
