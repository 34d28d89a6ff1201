import type { Kysely, Migration } from 'kysely';

/** Lifecycle, server side (window pauses, reminders, extensions, sender bookings, alarms): filled by its change. */
export const lifecycleServer: Migration = {
  async up(_db: Kysely<unknown>) {},
};
