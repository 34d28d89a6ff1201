import type { Kysely, Migration } from 'kysely';

/**
 * Low compartments (issue 14, accessibility): a compartment registered `low: true` can be reached from a
 * wheelchair; bookings that ask `accessible: true` get one when one is free (server/parcels/allocation.ts).
 */
export const lowCompartments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('compartments')
      .addColumn('low', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('compartments').dropColumn('low').execute();
  },
};
