import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { UpdateCommandMessage, UpdateReport } from '../../shared/messages.js';
import { checkArtefact, firmwareKey } from './firmware-check.js';
import { simulatedHealthCheck } from './simulated-firmware.js';
import { VersionStore, type VersionPointer } from './version-store.js';

/** How the agent takes firmware updates (docs/firmware.md). */
export interface UpdateSettings {
  /** The versions folder (in the agent's data dir). */
  dir: string;
  /** The vendor's Ed25519 public key the locker trusts (base64url `x`); without it every update is refused. */
  publicKey?: string;
  /** The server's API (downloads and reports go there); without it updates cannot be downloaded. */
  apiUrl?: string;
  /** The version running before any update was installed here. */
  initialVersion?: string;
  /** Does the installed version come up? Default: the simulated firmware's check (a manifest that may be marked bad). */
  healthCheck?: (artefact: Uint8Array, version: string) => boolean | Promise<boolean>;
  /** While doors are busy, how often to look again (default 1 s). */
  idleRetryMs?: number;
}

export interface UpdaterHooks {
  clock: Clock;
  log: Logger;
  /** Runs `fn` in the agent's queue if no door is open, no session runs and no code is in use; else resolves false. */
  whenIdle(fn: () => Promise<void>): Promise<boolean>;
  fetch?: typeof fetch;
}

/** Longest artefact a locker downloads, whatever the command says. */
const MAX_ARTEFACT_BYTES = 64 * 1024 * 1024;

/**
 * Takes an update command through download, check, install and trial: the artefact is checked (size, SHA-256,
 * vendor signature) before anything is written; it is installed only between door sessions (never while a door is
 * open, a session runs or a code is in use: the update waits and says `deferred`); the pointer then names the new
 * version *on trial*, and only a passing health check confirms it, otherwise the pointer goes back to the previous
 * version (`rolled_back`). A trial found at start (the agent stopped during it) gets one health check; a trial
 * that already had its start goes back. Each command id runs once; a resend is answered with its outcome.
 */
export class Updater {
  readonly #s: UpdateSettings;
  readonly #h: UpdaterHooks;
  readonly #versions: VersionStore;
  #pointer: VersionPointer = { current: null, previous: null, trial: null, done: [] };
  #busy: string | null = null;
  #cancelRetry: (() => void) | undefined;
  #stopped = false;

  constructor(settings: UpdateSettings, hooks: UpdaterHooks) {
    this.#s = settings;
    this.#h = hooks;
    this.#versions = new VersionStore(settings.dir);
  }

  /** The version that runs (reported with every heartbeat). */
  get version(): string | null {
    return this.#pointer.current;
  }

  /** Reads the pointer; a version left on trial gets its health check now (or goes back if it had its chance). */
  async start(): Promise<void> {
    this.#pointer = await this.#versions.read(this.#s.initialVersion ?? null);
    const trial = this.#pointer.trial;
    if (!trial) return;
    trial.starts++;
    await this.#versions.write(this.#pointer);
    if (trial.starts > 1) await this.#revert('DID_NOT_COME_UP');
    else await this.#comeUp();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelRetry?.();
  }

  /** An update command (resends included). Runs in the background; never throws. */
  handle(cmd: UpdateCommandMessage, now: number): void {
    void this.#handle(cmd, now).catch((err: unknown) => {
      this.#h.log.error({ err: String(err), commandId: cmd.id }, 'update failed');
      this.#busy = null;
    });
  }

  async #handle(cmd: UpdateCommandMessage, now: number): Promise<void> {
    const done = this.#pointer.done.find((d) => d.commandId === cmd.id);
    if (done) return this.#report(cmd.report, { state: done.state, ...(done.reason ? { reason: done.reason } : {}) });
    if (this.#busy) return;
    if (this.#pointer.current === cmd.version) return this.#finish(cmd, 'applied');
    if (now > cmd.expiresAt) return this.#finish(cmd, 'failed', 'EXPIRED_BEFORE_RUN');
    this.#busy = cmd.id;
    try {
      const bytes = await this.#download(cmd);
      if (typeof bytes === 'string') return await this.#finish(cmd, 'failed', bytes);
      const refusal = checkArtefact(bytes, cmd, this.#s.publicKey ? firmwareKey(this.#s.publicKey) : undefined);
      if (refusal) {
        this.#h.log.warn({ commandId: cmd.id, version: cmd.version, reason: refusal }, 'update refused: artefact does not check out');
        return await this.#finish(cmd, 'failed', refusal);
      }
      await this.#versions.install(cmd.version, bytes);
      await this.#applyWhenIdle(cmd);
    } finally {
      this.#busy = null;
    }
  }

  async #download(cmd: UpdateCommandMessage): Promise<Uint8Array | string> {
    if (!this.#s.apiUrl) return 'NO_API_URL';
    if (cmd.size > MAX_ARTEFACT_BYTES) return 'TOO_LARGE';
    await this.#report(cmd.report, { state: 'downloading' });
    try {
      const res = await (this.#h.fetch ?? fetch)(new URL(cmd.download, this.#s.apiUrl), { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) return `DOWNLOAD_FAILED_${res.status}`;
      const bytes = new Uint8Array(await res.arrayBuffer());
      return bytes.byteLength > MAX_ARTEFACT_BYTES ? 'TOO_LARGE' : bytes;
    } catch (err) {
      this.#h.log.warn({ err: String(err), commandId: cmd.id }, 'update download failed');
      return 'DOWNLOAD_FAILED';
    }
  }

  /** Switches the pointer only when the locker is idle; until then says `deferred` (once) and looks again. */
  async #applyWhenIdle(cmd: UpdateCommandMessage): Promise<void> {
    let deferred = false;
    for (;;) {
      if (this.#stopped) return;
      const ran = await this.#h.whenIdle(async () => {
        this.#pointer = { ...this.#pointer, previous: this.#pointer.current, current: cmd.version, trial: { version: cmd.version, commandId: cmd.id, starts: 0, report: cmd.report } };
        await this.#versions.write(this.#pointer);
        this.#h.log.info({ commandId: cmd.id, version: cmd.version, previous: this.#pointer.previous }, 'update installed; on trial');
      });
      if (ran) break;
      if (!deferred) {
        deferred = true;
        this.#h.log.info({ commandId: cmd.id, version: cmd.version }, 'update deferred: a door session or code is in use');
        await this.#report(cmd.report, { state: 'deferred', reason: 'DOOR_SESSION' });
      }
      await new Promise<void>((resolve) => {
        this.#cancelRetry = this.#h.clock.setTimeout(resolve, this.#s.idleRetryMs ?? 1000);
      });
    }
    await this.#comeUp();
  }

  /** The version on trial starts: its health check confirms it or sends the pointer back. */
  async #comeUp(): Promise<void> {
    const trial = this.#pointer.trial;
    if (!trial) return;
    const bytes = await this.#versions.artefact(trial.version);
    const check = this.#s.healthCheck ?? simulatedHealthCheck;
    const up = bytes !== null && (await check(bytes, trial.version));
    if (!up) return this.#revert('DID_NOT_COME_UP');
    this.#pointer = { ...this.#pointer, trial: null, done: [...this.#pointer.done, { commandId: trial.commandId, state: 'applied' }] };
    await this.#versions.write(this.#pointer);
    this.#h.log.info({ version: trial.version }, 'update confirmed: the new version came up');
    await this.#report(trial.report, { state: 'applied' });
  }

  async #revert(reason: string): Promise<void> {
    const trial = this.#pointer.trial;
    if (!trial) return;
    this.#pointer = {
      current: this.#pointer.previous,
      previous: trial.version,
      trial: null,
      done: [...this.#pointer.done, { commandId: trial.commandId, state: 'rolled_back', reason }],
    };
    await this.#versions.write(this.#pointer);
    this.#h.log.warn({ version: trial.version, back: this.#pointer.current, reason }, 'update rolled back: the new version did not come up');
    await this.#report(trial.report, { state: 'rolled_back', reason });
  }

  async #finish(cmd: UpdateCommandMessage, state: 'applied' | 'failed', reason?: string): Promise<void> {
    this.#pointer = { ...this.#pointer, done: [...this.#pointer.done, { commandId: cmd.id, state, ...(reason ? { reason } : {}) }] };
    await this.#versions.write(this.#pointer);
    await this.#report(cmd.report, { state, ...(reason ? { reason } : {}) });
  }

  /** Best effort: the server also learns the outcome from the version in the heartbeats, and resends the command. */
  async #report(reportPath: string, report: Omit<UpdateReport, 'version'>): Promise<void> {
    if (!this.#s.apiUrl) return;
    const body: UpdateReport = { ...report, ...(this.#pointer.current ? { version: this.#pointer.current } : {}) };
    try {
      const res = await (this.#h.fetch ?? fetch)(new URL(reportPath, this.#s.apiUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) this.#h.log.warn({ status: res.status, state: report.state }, 'update report refused');
    } catch (err) {
      this.#h.log.warn({ err: String(err), state: report.state }, 'update report not sent');
    }
  }
}
