/** API accounts and the ids of the access tokens issued to them (for revocation). */
export const accounts = {
    async up(db) {
        await db.schema
            .createTable('accounts')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('role', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
        await db.schema
            .createTable('account_tokens')
            .addColumn('jti', 'text', (c) => c.primaryKey())
            .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('expires_at', 'bigint', (c) => c.notNull())
            .addColumn('revoked_at', 'bigint')
            .execute();
        await db.schema.createIndex('account_tokens_account').on('account_tokens').columns(['account_id', 'created_at']).execute();
    },
    async down(db) {
        await db.schema.dropTable('account_tokens').execute();
        await db.schema.dropTable('accounts').execute();
    },
};
//# sourceMappingURL=002-accounts.js.map