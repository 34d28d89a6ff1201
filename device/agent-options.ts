import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { AccessRefusal } from './access-rules.js';
import type { LOCK_NOT_DRIVEN } from './hardware-faults.js';
import type { LockerHardware } from './hardware.js';
import type { LockoutRules } from './keypad-lockout.js';
import type { DeviceStore } from './store/device-store.js';
import type { UpdateSettings } from './update/updater.js';

/** What a LockerAgent is built from (device/agent.ts), and what a typed or scanned code came to. */
export interface AgentOptions {
  lockerId: string;
  mqttUrl: string;
  /** Signs a fresh broker password for each connect (see device/identity.ts). */
  password: () => Promise<string>;
  hardware: LockerHardware;
  store: DeviceStore;
  clock: Clock;
  random?: () => number;
  /** After this long open, a door raises `door.left_open`. */
  doorLeftOpenMs?: number;
  ackTimeoutMs?: number;
  /** Longest ack wait before a resend (the wait doubles with each miss in a row; see SyncOptions). */
  maxAckTimeoutMs?: number;
  /** Spread of the first connect after a start (a fleet powered on at once). */
  startJitterMs?: number;
  /**
   * Unacknowledged events the locker holds before it stops taking new codes (door and alarm events are still
   * recorded; nothing is ever dropped). See docs/protocol.md, "When the outbox grows".
   */
  outboxLimit?: number;
  /** Keypad lockout after repeated wrong codes (defaults: DEFAULT_LOCKOUT_RULES, see docs/protocol.md). */
  keypadLockout?: Partial<LockoutRules>;
  /** Where the agent and its sync client log (pino; default: nothing). See device/device-logger.ts. */
  log?: Logger;
  /**
   * Screen: a used pickup code reopens its door once within this many seconds of the pickup (default 0: never; the
   * device's settings default to 60, see device/screen/screen-settings.ts and device/reopen-rules.ts).
   */
  reopenWindowSec?: number;
  // Firmware updates and remote diagnostics (issue 19; docs/firmware.md):
  /** How this locker takes firmware updates (versions folder, trusted vendor key, API URL); none: updates are refused. */
  update?: UpdateSettings;
  /** The agent's recent log lines, for remote diagnostics (see LogTail in device/diagnostics.ts). */
  logTail?: () => readonly string[];
}

export type CodeOutcome = { opened: string; reopened?: true } | { refused: AccessRefusal | 'NOT_READY' | 'MALFORMED' | 'OUTBOX_FULL' | typeof LOCK_NOT_DRIVEN };
