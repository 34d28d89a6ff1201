import type { GrantAction } from '../../shared/messages.js';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';

export interface MetaTable {
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
export interface UsedGrantsTable {
  jti: string;
  used_at: number;
  exp: number;
}

/** Events recorded and not yet acknowledged by the server. */
export interface OutboxTable {
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
}

export interface DeviceDatabase {
  meta: MetaTable;
  grants: GrantsTable;
  used_grants: UsedGrantsTable;
  outbox: OutboxTable;
  compartments: CompartmentsTable;
}
