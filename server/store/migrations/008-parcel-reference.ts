import type { Kysely, Migration } from 'kysely';

/** Parcels are looked up by the carrier's reference (dashboard, carriers' systems). */
export const parcelReference: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('parcels_reference').on('parcels').columns(['reference', 'created_at']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('parcels_reference').execute();
  },
};
