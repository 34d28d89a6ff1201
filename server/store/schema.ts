import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import type { GrantAction } from '../../shared/messages.js';
import type { ParcelKind, ParcelStatus } from '../../shared/api/parcels.js';
import type { OperationsTables } from './schema-operations.js';
// Operator sign-in (issue 19).
import type { SignInTables } from './schema-sign-in.js';
// Firmware rollouts (issue 19):
import type { FirmwareTables } from './schema-firmware.js';
import type { ListingTables } from './schema-listing.js';

/**
 * The tables, each row type declared once; insert and select shapes are derived from it (`Generated` columns
 * are optional on insert). Times are milliseconds since the epoch, from the injected clock. Booleans are 0/1.
 */

export * from './schema-operations.js';

export interface LockersTable {
  id: string;
  name: string;
  lat: number;
  lon: number;
  created_at: number;
  /** SHA-256 (hex) of the locker's broker secret; the secret itself is shown once at registration. */
  secret_hash: string;
  online: number;
  last_seen_at: number | null;
  boot_id: string | null;
  /** Version of the newest desired-state change. */
  desired_version: number;
  /** Version the device last reported as applied. */
  reported_version: number;
  /** The device's last event seq at that report. */
  reported_seq: number;
  /** JSON of the locker's own Ed25519 public key (DevicePublicKey), set at enrolment; null: not enrolled. */
  public_key: string | null;
  enrolled_at: number | null;
  /** Since when the locker counts as offline for pickup windows; null while it is online. */
  unavailable_since: number | null;
  /** The locker's last outage that ended (a deposit recorded during it is credited the time it could not be known). */
  last_outage_from: number | null;
  last_outage_to: number | null;
  /** Retired (issue 16): hidden from the fleet, refused by the broker, kept for history; null while in service. */
  retired_at: number | null;
  // Telemetry: the latest reading sent with a heartbeat; null until one arrives.
  firmware_version: string | null;
  temperature_c: number | null;
  /** `mains` or `battery` (on backup power). */
  power_source: 'mains' | 'battery' | null;
  battery_pct: number | null;
  /** When the server received the reading. */
  telemetry_at: number | null;
  // Firmware rollouts (migration 019, issue 19): IANA zone of the locker's maintenance window.
  timezone: ColumnType<string, string | undefined, string>;
}

export interface CompartmentsTable {
  locker_id: string;
  id: string;
  size: CompartmentSize;
  in_service: number;
  /** The parcel reserved into or held by this compartment; null when free. The row is the booking lock. */
  parcel_id: string | null;
  /** Screen (issue 14): 1 when the compartment sits low (reachable from a wheelchair); bookings may ask for one. */
  low: Generated<number>;
}

export type PauseReason = 'locker_offline' | 'compartment_out_of_service';

export interface ParcelsTable {
  id: string;
  locker_id: string;
  compartment_id: string;
  size: CompartmentSize;
  status: ParcelStatus;
  reference: string;
  /** JSON: {phone?, email?} */
  recipient: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  deposited_at: number | null;
  picked_up_at: number | null;
  /**
   * For a cancelled parcel still holding its compartment: the desired-state version that revoked its grants.
   * The compartment is freed once the locker applied it and every event it had recorded by then is committed.
   */
  release_version: number | null;
  kind: Generated<ParcelKind>;
  /** JSON {phone?, email?} of whoever drops the parcel off (return, p2p); null for a carrier's delivery. */
  sender: string | null;
  /** End of the pickup window (ms); set once the deposit is known, moved by pauses and extensions. */
  pickup_deadline: number | null;
  /** Since when the window stands still (locker offline or compartment out of service); null while it runs. */
  paused_since: number | null;
  pause_reason: PauseReason | null;
  /** Pause time already added to the deadline. */
  paused_ms: Generated<number>;
  /** Extensions granted through the API. */
  extensions: Generated<number>;
}

export type GrantStatus = 'live' | 'used' | 'revoked';

export interface GrantsTable {
  jti: string;
  parcel_id: string;
  locker_id: string;
  compartment_id: string;
  action: GrantAction;
  pin_hash: string;
  token: string;
  kid: string;
  nbf: number;
  exp: number;
  status: GrantStatus;
  used_at: number | null;
  /** How many times devices reported this grant accepted; more than one is flagged. */
  uses: number;
  /** The grant whose id the PIN is derived from, when not its own (a re-issued pickup grant keeps its PIN). */
  pin_jti: string | null;
}

export type HistorySource = 'api' | 'device' | 'scheduler';

export interface ParcelHistoryTable {
  id: Generated<number>;
  parcel_id: string;
  at: number;
  type: string;
  status: ParcelStatus;
  source: HistorySource;
  /** e.g. "lk_x#17" for a device event, the principal for an API call. */
  source_ref: string | null;
  detail: string | null;
}

export interface DeviceEventsTable {
  locker_id: string;
  seq: number;
  event_id: string;
  boot_id: string;
  device_at: number;
  received_at: number;
  type: string;
  /** The event as the device sent it (JSON). */
  body: string;
}

export interface DesiredChangesTable {
  locker_id: string;
  version: number;
  /** JSON array of StateChange. */
  changes: string;
  created_at: number;
}

export interface NotificationsTable {
  id: string;
  parcel_id: string;
  kind: 'pickup_code' | 'collection_code';
  /** JSON: {phone?, email?} for a recipient; {carrier} for a collection code. */
  recipient: string;
  grant_jti: string;
  created_at: number;
}

/** Pickup reminders sent, one per parcel and lead time. */
export interface ParcelRemindersTable {
  parcel_id: string;
  lead_sec: number;
  /** The deadline the reminder announced. */
  deadline: number;
  /** When it was queued; 0 when the lead never applied to this parcel (longer than its whole window). */
  sent_at: number;
}

export interface Database extends OperationsTables, FirmwareTables {
  lockers: LockersTable;
  compartments: CompartmentsTable;
  parcels: ParcelsTable;
  grants: GrantsTable;
  parcel_history: ParcelHistoryTable;
  device_events: DeviceEventsTable;
  desired_changes: DesiredChangesTable;
  notifications: NotificationsTable;
  parcel_reminders: ParcelRemindersTable;
  // Operator sign-in (issue 19).
  account_credentials: SignInTables['account_credentials'];
  sign_in_sessions: SignInTables['sign_in_sessions'];
  sign_in_failures: SignInTables['sign_in_failures'];
  // Fleet listing and history (cockpit, migration 017): server/store/schema-listing.ts.
  locker_rollups: ListingTables['locker_rollups'];
  locker_hourly: ListingTables['locker_hourly'];
  occupancy_samples: ListingTables['occupancy_samples'];
}

export type LockerRow = Selectable<LockersTable>;
export type CompartmentRow = Selectable<CompartmentsTable>;
export type ParcelRow = Selectable<ParcelsTable>;
export type GrantRow = Selectable<GrantsTable>;
export type NewGrant = Insertable<GrantsTable>;
export type HistoryRow = Selectable<ParcelHistoryTable>;
