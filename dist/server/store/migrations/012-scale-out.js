/** Leases: which server process runs a once-per-fleet loop (the scheduler) while several run side by side. */
export const scaleOut = {
    async up(db) {
        await db.schema
            .createTable('leases')
            .addColumn('name', 'text', (c) => c.primaryKey())
            .addColumn('holder', 'text', (c) => c.notNull())
            .addColumn('expires_at', 'bigint', (c) => c.notNull())
            .execute();
    },
    async down(db) {
        await db.schema.dropTable('leases').execute();
    },
};
//# sourceMappingURL=012-scale-out.js.map