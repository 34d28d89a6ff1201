/** Parcels are looked up by the carrier's reference (dashboard, carriers' systems). */
export const parcelReference = {
    async up(db) {
        await db.schema.createIndex('parcels_reference').on('parcels').columns(['reference', 'created_at']).execute();
    },
    async down(db) {
        await db.schema.dropIndex('parcels_reference').execute();
    },
};
//# sourceMappingURL=008-parcel-reference.js.map