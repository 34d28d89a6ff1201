import type { DiagnosticsCommandMessage, DiagnosticsResult, Telemetry } from '../shared/messages.js';
import type { LockerHardware } from './hardware.js';
import type { DeviceStore } from './store/device-store.js';

/** What a diagnostics request reads on the locker. */
export interface DiagnosticsContext {
  bootId: string;
  store: DeviceStore;
  hardware: LockerHardware;
  isBusy(compartmentId: string): boolean;
  connected(): boolean;
  now(): number;
  firmwareVersion(): string | null;
  /** The agent's recent log lines (already redacted). */
  logTail(): readonly string[];
  apiUrl: string | undefined;
  fetch?: typeof fetch;
}

const MAX_LINE = 2000;

/** Anything shaped like a compact JWS (a grant or broker token) or a long secret, masked once more before it leaves. */
const SECRETS = [/[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, /("(?:pin|qr|token|password|secret|privateKey|pinKey)"\s*:\s*)"[^"]*"/g];

/** A log line as it may leave the locker: tokens and secret-named fields masked, bounded in length. */
export function redactLine(line: string): string {
  let out = line.replace(SECRETS[0]!, '[redacted]').replace(SECRETS[1]!, '$1"[redacted]"');
  if (out.length > MAX_LINE) out = `${out.slice(0, MAX_LINE - 1)}…`;
  return out;
}

/** Reads outbox, doors, faults, telemetry and the log tail. A sensor that fails reads `unknown`; it never stops the answer. */
export async function collectDiagnostics(ctx: DiagnosticsContext, logLines: number): Promise<DiagnosticsResult> {
  const { store, hardware } = ctx;
  const records = await store.compartments();
  const compartments = await Promise.all(
    records.map(async (c) => ({
      id: c.id,
      door: await hardware.readDoor(c.id).catch(() => 'unknown' as const),
      fault: c.fault ? c.fault.slice(0, 64) : null,
      busy: ctx.isBusy(c.id),
      inService: c.in_service === 1,
    })),
  );
  let telemetry: Telemetry | undefined;
  try {
    telemetry = await hardware.telemetry?.();
  } catch {
    telemetry = undefined;
  }
  const version = ctx.firmwareVersion();
  const tail = logLines > 0 ? ctx.logTail().slice(-logLines) : [];
  return {
    at: ctx.now(),
    bootId: ctx.bootId,
    ...(version ? { firmwareVersion: version } : {}),
    outbox: await store.outboxSize(),
    lastSeq: await store.lastSeq(),
    connected: ctx.connected(),
    compartments: compartments.slice(0, 512),
    ...(telemetry ? { telemetry } : {}),
    log: tail.map(redactLine),
  };
}

/** Answers a diagnostics command at its `report` path (HTTP). A request past its expiry is not answered. */
export async function runDiagnostics(ctx: DiagnosticsContext, cmd: DiagnosticsCommandMessage): Promise<boolean> {
  if (!ctx.apiUrl || ctx.now() > cmd.expiresAt) return false;
  const result = await collectDiagnostics(ctx, cmd.logLines);
  const res = await (ctx.fetch ?? fetch)(new URL(cmd.report, ctx.apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result),
    signal: AbortSignal.timeout(10_000),
  });
  return res.ok;
}

/** The last `max` log lines the agent wrote: a pino destination (`write`) that keeps a ring. */
export class LogTail {
  readonly #lines: string[] = [];
  constructor(readonly max = 500) {}
  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (!line) continue;
      this.#lines.push(line);
      if (this.#lines.length > this.max) this.#lines.shift();
    }
  }
  lines(): readonly string[] {
    return this.#lines;
  }
}
