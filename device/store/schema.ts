import type { GrantAction } from '../../shared/messages.js';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';

interface MetaTable {
  key: string;
  value: string;
}

/** Grants this locker was given, verified on arrival. */
export interface GrantsTable {
  jti: string;
  token: string;
  action: GrantAction;
  parcel_id: string;
  compartment_id: string;
  pin_hash: string;
  nbf: number;
  exp: number;
}

/** Every grant ever used here, kept until long after it expires: a used grant never opens again. */
interface UsedGrantsTable {
  jti: string;
  used_at: number;
  exp: number;
}

/** Events recorded and not yet acknowledged by the server. */
interface OutboxTable {
  seq: number;
  body: string;
}

export interface CompartmentsTable {
  id: string;
  size: CompartmentSize;
  in_service: number;
  /** The parcel this locker saw deposited here; null when it saw it empty. */
  parcel_id: string | null;
  fault: string | null;
  /** JSON of the door session in progress (see door-controller.ts); null when none. */
  session: string | null;
}

/** Grants the server revoked: refused even when shown as a QR code. */
interface RevokedGrantsTable {
  jti: string;
  revoked_at: number;
}

/** Commands this locker received, so that each runs at most once. */
interface CommandsTable {
  id: string;
  type: string;
  state: 'running' | 'succeeded' | 'failed' | 'expired';
  received_at: number;
}

/** The keypad's run of failed attempts (one row, id 1); absent means none. */
interface KeypadLockoutTable {
  id: number;
  failures: number;
  last_failure_at: number;
  locked_until: number;
}

/** One parcel of a batch grant (`deposit_batch`). */
interface GrantItemsTable {
  jti: string;
  parcel_id: string;
  compartment_id: string;
}

/** A deposit the locker put into another compartment than the one booked (see device/relocation.ts). */
interface ParcelMovesTable {
  parcel_id: string;
  from_id: string;
  to_id: string;
  at: number;
}

export interface DeviceDatabase {
  grant_items: GrantItemsTable;
  parcel_moves: ParcelMovesTable;
  meta: MetaTable;
  grants: GrantsTable;
  used_grants: UsedGrantsTable;
  outbox: OutboxTable;
  compartments: CompartmentsTable;
  revoked_grants: RevokedGrantsTable;
  commands: CommandsTable;
  keypad_lockout: KeypadLockoutTable;
}
