/** Confirmed releases after revocation, operator commands, and alarms. */
export const offlineSync = {
    async up(db) {
        await db.schema.alterTable('lockers').addColumn('reported_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('parcels').addColumn('release_version', 'integer').execute();
        await db.schema
            .createTable('commands')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('compartment_id', 'text', (c) => c.notNull())
            .addColumn('in_service', 'integer')
            .addColumn('reason', 'text', (c) => c.notNull())
            .addColumn('requested_by', 'text', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('result', 'text')
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('expires_at', 'bigint', (c) => c.notNull())
            .addColumn('updated_at', 'bigint', (c) => c.notNull())
            .execute();
        await db.schema.createIndex('commands_locker_state').on('commands').columns(['locker_id', 'state']).execute();
        await db.schema
            .createTable('alarms')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('compartment_id', 'text')
            .addColumn('parcel_id', 'text')
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('count', 'integer', (c) => c.notNull())
            .addColumn('first_at', 'bigint', (c) => c.notNull())
            .addColumn('last_at', 'bigint', (c) => c.notNull())
            .addColumn('detail', 'text')
            .execute();
        await db.schema.createIndex('alarms_locker_kind').on('alarms').columns(['locker_id', 'kind', 'state']).execute();
    },
    async down(db) {
        await db.schema.dropTable('alarms').execute();
        await db.schema.dropTable('commands').execute();
        await db.schema.alterTable('parcels').dropColumn('release_version').execute();
        await db.schema.alterTable('lockers').dropColumn('reported_seq').execute();
    },
};
//# sourceMappingURL=003-offline-sync.js.map