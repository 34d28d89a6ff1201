import type { Kysely, Migration } from 'kysely';

/** Lifecycle, device side (batch deposit, fit, jams, telemetry): filled by its change. */
export const lifecycleDevice: Migration = {
  async up(_db: Kysely<unknown>) {},
};
