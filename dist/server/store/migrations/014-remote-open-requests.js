/**
 * Opens of occupied compartments (four-eyes, issue 17), and the indexes the remote-open caps count with: opens and
 * set_service commands by time, fleet-wide and per principal.
 */
export const remoteOpenRequests = {
    async up(db) {
        await db.schema
            .createTable('remote_open_requests')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
            .addColumn('compartment_id', 'text', (c) => c.notNull())
            .addColumn('parcel_id', 'text')
            .addColumn('reason', 'text', (c) => c.notNull())
            .addColumn('requested_by', 'text', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('ttl_sec', 'integer')
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('expires_at', 'bigint', (c) => c.notNull())
            .addColumn('approved_by', 'text')
            .addColumn('approved_at', 'bigint')
            .addColumn('sent_at', 'bigint')
            .addColumn('command_id', 'text')
            .execute();
        await db.schema.createIndex('remote_open_requests_state').on('remote_open_requests').columns(['state', 'expires_at']).execute();
        await db.schema.createIndex('remote_open_requests_requester').on('remote_open_requests').columns(['requested_by', 'state', 'created_at']).execute();
        await db.schema.createIndex('remote_open_requests_sent').on('remote_open_requests').columns(['sent_at']).execute();
        await db.schema.createIndex('commands_type_created').on('commands').columns(['type', 'created_at']).execute();
        await db.schema.createIndex('commands_requester').on('commands').columns(['requested_by', 'type', 'created_at']).execute();
    },
    async down(db) {
        await db.schema.dropIndex('commands_requester').execute();
        await db.schema.dropIndex('commands_type_created').execute();
        await db.schema.dropTable('remote_open_requests').execute();
    },
};
//# sourceMappingURL=014-remote-open-requests.js.map