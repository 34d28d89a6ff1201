import type { Selectable } from 'kysely';

// Firmware, rollouts and remote diagnostics (migration 019, issue 19).

export interface FirmwareArtefactsTable {
  version: string;
  /** SHA-256 of the artefact's bytes, lower-case hex. */
  sha256: string;
  size: number;
  /** Ed25519 signature (base64url) over `firmwareSignedText(version, sha256)`, made with the vendor's key. */
  signature: string;
  /** The bytes, base64. */
  content: string;
  notes: string | null;
  created_by: string;
  created_at: number;
}

export type RolloutState = 'running' | 'paused' | 'halted' | 'aborted' | 'completed' | 'rolling_back' | 'rolled_back';
export type RolloutLockerState = 'pending' | 'sent' | 'updated' | 'failed' | 'rolling_back' | 'rolled_back';

export interface RolloutsTable {
  id: string;
  version: string;
  state: RolloutState;
  /** JSON number[]: cumulative percent of the targets updated by the end of each wave. */
  waves: string;
  /** Index of the wave in progress. */
  wave: number;
  wave_started_at: number | null;
  /** Maintenance window in each locker's local time, minutes after midnight (end exclusive; may wrap midnight). */
  window_start_min: number;
  window_end_min: number;
  deadline_sec: number;
  max_failed_pct: number;
  max_alarm_increase: number;
  halted_reason: string | null;
  reason: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface RolloutLockersTable {
  rollout_id: string;
  locker_id: string;
  wave: number;
  state: RolloutLockerState;
  from_version: string | null;
  command_id: string | null;
  sent_at: number | null;
  last_sent_at: number | null;
  deadline_at: number | null;
  done_at: number | null;
  device_state: string | null;
  detail: string | null;
}

export type DiagnosticsState = 'pending' | 'completed' | 'expired';

export interface DiagnosticsRequestsTable {
  id: string;
  locker_id: string;
  state: DiagnosticsState;
  reason: string;
  requested_by: string;
  log_lines: number;
  created_at: number;
  expires_at: number;
  last_sent_at: number | null;
  completed_at: number | null;
  result: string | null;
}

export interface FirmwareTables {
  firmware_artefacts: FirmwareArtefactsTable;
  rollouts: RolloutsTable;
  rollout_lockers: RolloutLockersTable;
  diagnostics_requests: DiagnosticsRequestsTable;
}

export type FirmwareArtefactRow = Selectable<FirmwareArtefactsTable>;
export type RolloutRow = Selectable<RolloutsTable>;
export type RolloutLockerRow = Selectable<RolloutLockersTable>;
export type DiagnosticsRequestRow = Selectable<DiagnosticsRequestsTable>;
