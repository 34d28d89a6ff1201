import { serialKey } from '../dialect.js';
/** Webhook endpoints (one per carrier account) and the durable outbox of their deliveries. */
export const webhooks = {
    async up(db) {
        await db.schema
            .createTable('webhooks')
            .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
            .addColumn('url', 'text', (c) => c.notNull())
            .addColumn('secret', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('updated_at', 'bigint', (c) => c.notNull())
            .execute();
        await db.schema
            .createTable('webhook_deliveries')
            // The order of creation (per account, deliveries go out in this order).
            .addColumn('seq', 'integer', serialKey(db))
            .addColumn('id', 'text', (c) => c.notNull().unique())
            .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
            .addColumn('event_type', 'text', (c) => c.notNull())
            .addColumn('parcel_id', 'text', (c) => c.notNull())
            .addColumn('payload', 'text', (c) => c.notNull())
            .addColumn('grant_jti', 'text')
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('last_error', 'text')
            .addColumn('last_status', 'integer')
            .addColumn('last_attempt_at', 'bigint')
            .addColumn('delivered_at', 'bigint')
            .execute();
        // The worker looks for the oldest pending delivery of each account; the routes list by account and state.
        await db.schema.createIndex('webhook_deliveries_pending').on('webhook_deliveries').columns(['state', 'account_id', 'seq']).execute();
        await db.schema.createIndex('webhook_deliveries_account').on('webhook_deliveries').columns(['account_id', 'seq']).execute();
        await db.schema.createIndex('webhook_deliveries_parcel').on('webhook_deliveries').column('parcel_id').execute();
    },
    async down(db) {
        await db.schema.dropTable('webhook_deliveries').execute();
        await db.schema.dropTable('webhooks').execute();
    },
};
//# sourceMappingURL=007-webhooks.js.map