/**
 * Tables of the fleet listing and its history (migration 017): derived data, kept by triggers in the same
 * transaction as the rows they count, and by the occupancy sampler.
 */

/** What the fleet page sorts and filters on, per locker. */
export interface LockerRollupsTable {
  locker_id: string;
  compartments: number;
  /** Compartments holding a parcel (reserved or occupied). */
  in_use: number;
  /** Free compartments taken out of service. */
  out_of_service: number;
  /** in_use / compartments, in per mille (0 for a locker without compartments). */
  occupancy_pm: number;
  /** Alarms not yet resolved (open or acknowledged). */
  open_alarms: number;
}

/** Per locker and hour (its start, ms since the epoch): what happened in it. */
export interface LockerHourlyTable {
  locker_id: string;
  hour: number;
  bookings: number;
  deposits: number;
  pickups: number;
  expiries: number;
  /** Alarms raised (a repeat of an unresolved alarm counts up on it and is not a new one). */
  alarms: number;
}

/** Compartments in use per size, per locker (or `*`, the fleet) at the hour's sample; written when they changed. */
export interface OccupancySamplesTable {
  scope: string;
  hour: number;
  size: string;
  in_use: number;
  total: number;
}

export interface ListingTables {
  locker_rollups: LockerRollupsTable;
  locker_hourly: LockerHourlyTable;
  occupancy_samples: OccupancySamplesTable;
}
