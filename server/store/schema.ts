import type { Generated, Insertable, Selectable } from 'kysely';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import type { GrantAction } from '../../shared/messages.js';

/** Times are milliseconds since the epoch, from the injected clock. Booleans are 0/1. */

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
}

export interface CompartmentsTable {
  locker_id: string;
  id: string;
  size: CompartmentSize;
  in_service: number;
  /** The parcel reserved into or held by this compartment; null when free. The row is the booking lock. */
  parcel_id: string | null;
}

export const PARCEL_STATUSES = ['booked', 'in_locker', 'picked_up', 'expired', 'returned', 'cancelled'] as const;
export type ParcelStatus = (typeof PARCEL_STATUSES)[number];

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
  kind: 'pickup_code';
  /** JSON: {phone?, email?} */
  recipient: string;
  grant_jti: string;
  created_at: number;
}

export interface Database {
  lockers: LockersTable;
  compartments: CompartmentsTable;
  parcels: ParcelsTable;
  grants: GrantsTable;
  parcel_history: ParcelHistoryTable;
  device_events: DeviceEventsTable;
  desired_changes: DesiredChangesTable;
  notifications: NotificationsTable;
}

export type LockerRow = Selectable<LockersTable>;
export type CompartmentRow = Selectable<CompartmentsTable>;
export type ParcelRow = Selectable<ParcelsTable>;
export type GrantRow = Selectable<GrantsTable>;
export type NewGrant = Insertable<GrantsTable>;
export type HistoryRow = Selectable<ParcelHistoryTable>;
