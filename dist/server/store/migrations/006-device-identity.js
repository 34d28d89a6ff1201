/** Device identity: each locker's own public key, enrolled once with a single-use token. */
export const deviceIdentity = {
    async up(db) {
        await db.schema.alterTable('lockers').addColumn('public_key', 'text').execute();
        await db.schema.alterTable('lockers').addColumn('enrolled_at', 'bigint').execute();
        await db.schema
            .createTable('enrolment_tokens')
            .addColumn('token_hash', 'text', (c) => c.primaryKey())
            .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('expires_at', 'bigint', (c) => c.notNull())
            .addColumn('used_at', 'bigint')
            .execute();
        await db.schema.createIndex('enrolment_tokens_locker').on('enrolment_tokens').column('locker_id').execute();
    },
    async down(db) {
        await db.schema.dropTable('enrolment_tokens').execute();
        await db.schema.alterTable('lockers').dropColumn('enrolled_at').execute();
        await db.schema.alterTable('lockers').dropColumn('public_key').execute();
    },
};
//# sourceMappingURL=006-device-identity.js.map