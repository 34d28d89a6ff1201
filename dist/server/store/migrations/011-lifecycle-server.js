/**
 * Lifecycle, server side: the pickup window stored on the parcel (its end, pauses while the locker is offline
 * or the compartment out of service, extensions), sender bookings (kind, sender), reminders sent, the locker's
 * last outage (to credit a deposit that reached the server late), and a grant's PIN origin (a re-issued pickup
 * grant keeps the PIN the recipient already has).
 */
export const lifecycleServer = {
    async up(db) {
        const parcels = () => db.schema.alterTable('parcels');
        await parcels().addColumn('kind', 'text', (c) => c.notNull().defaultTo('delivery')).execute();
        await parcels().addColumn('sender', 'text').execute();
        await parcels().addColumn('pickup_deadline', 'bigint').execute();
        await parcels().addColumn('paused_since', 'bigint').execute();
        await parcels().addColumn('pause_reason', 'text').execute();
        await parcels().addColumn('paused_ms', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await parcels().addColumn('extensions', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        // The window rules look for parcels in a status whose deadline or reminder is due.
        await db.schema.createIndex('parcels_window').on('parcels').columns(['status', 'pickup_deadline']).execute();
        await db.schema.createIndex('parcels_paused').on('parcels').columns(['status', 'paused_since']).execute();
        // Compartments out of service are few: the pause rule starts from them.
        await db.schema.createIndex('compartments_service').on('compartments').columns(['in_service', 'locker_id']).execute();
        await db.schema.alterTable('grants').addColumn('pin_jti', 'text').execute();
        const lockers = () => db.schema.alterTable('lockers');
        await lockers().addColumn('unavailable_since', 'bigint').execute();
        await lockers().addColumn('last_outage_from', 'bigint').execute();
        await lockers().addColumn('last_outage_to', 'bigint').execute();
        await db.schema
            .createTable('parcel_reminders')
            .addColumn('parcel_id', 'text', (c) => c.notNull())
            .addColumn('lead_sec', 'integer', (c) => c.notNull())
            .addColumn('deadline', 'bigint', (c) => c.notNull())
            .addColumn('sent_at', 'bigint', (c) => c.notNull())
            .addPrimaryKeyConstraint('parcel_reminders_pk', ['parcel_id', 'lead_sec'])
            .execute();
    },
    async down(db) {
        await db.schema.dropTable('parcel_reminders').execute();
        for (const c of ['last_outage_to', 'last_outage_from', 'unavailable_since'])
            await db.schema.alterTable('lockers').dropColumn(c).execute();
        await db.schema.alterTable('grants').dropColumn('pin_jti').execute();
        await db.schema.dropIndex('compartments_service').execute();
        await db.schema.dropIndex('parcels_paused').execute();
        await db.schema.dropIndex('parcels_window').execute();
        for (const c of ['extensions', 'paused_ms', 'pause_reason', 'paused_since', 'pickup_deadline', 'sender', 'kind']) {
            await db.schema.alterTable('parcels').dropColumn(c).execute();
        }
    },
};
//# sourceMappingURL=011-lifecycle-server.js.map