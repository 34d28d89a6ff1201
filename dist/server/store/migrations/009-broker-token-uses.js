/** Broker tokens are single-use across restarts: every accepted token id is kept until it could no longer pass. */
export const brokerTokenUses = {
    async up(db) {
        await db.schema
            .createTable('broker_token_uses')
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('jti', 'text', (c) => c.notNull())
            .addColumn('keep_until', 'bigint', (c) => c.notNull())
            .addPrimaryKeyConstraint('broker_token_uses_pk', ['locker_id', 'jti'])
            .execute();
        await db.schema.createIndex('broker_token_uses_keep').on('broker_token_uses').column('keep_until').execute();
    },
    async down(db) {
        await db.schema.dropTable('broker_token_uses').execute();
    },
};
//# sourceMappingURL=009-broker-token-uses.js.map