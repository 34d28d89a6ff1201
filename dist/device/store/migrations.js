import { sql } from 'kysely';
export const deviceMigrations = {
    '001-initial': {
        async up(db) {
            await db.schema
                .createTable('meta')
                .addColumn('key', 'text', (c) => c.primaryKey())
                .addColumn('value', 'text', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('grants')
                .addColumn('jti', 'text', (c) => c.primaryKey())
                .addColumn('token', 'text', (c) => c.notNull())
                .addColumn('action', 'text', (c) => c.notNull())
                .addColumn('parcel_id', 'text', (c) => c.notNull())
                .addColumn('compartment_id', 'text', (c) => c.notNull())
                .addColumn('pin_hash', 'text', (c) => c.notNull())
                .addColumn('nbf', 'integer', (c) => c.notNull())
                .addColumn('exp', 'integer', (c) => c.notNull())
                .execute();
            await db.schema.createIndex('grants_pin_hash').on('grants').column('pin_hash').execute();
            await db.schema
                .createTable('used_grants')
                .addColumn('jti', 'text', (c) => c.primaryKey())
                .addColumn('used_at', 'integer', (c) => c.notNull())
                .addColumn('exp', 'integer', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('outbox')
                .addColumn('seq', 'integer', (c) => c.primaryKey())
                .addColumn('body', 'text', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('compartments')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('size', 'text', (c) => c.notNull())
                .addColumn('in_service', 'integer', (c) => c.notNull().defaultTo(1))
                .addColumn('parcel_id', 'text')
                .addColumn('fault', 'text')
                .execute();
        },
        async down(db) {
            for (const t of ['compartments', 'outbox', 'used_grants', 'grants', 'meta'])
                await db.schema.dropTable(t).execute();
        },
    },
    '002-sessions-revocations-commands': {
        async up(db) {
            await db.schema.alterTable('compartments').addColumn('session', 'text').execute();
            await db.schema
                .createTable('revoked_grants')
                .addColumn('jti', 'text', (c) => c.primaryKey())
                .addColumn('revoked_at', 'integer', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('commands')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('type', 'text', (c) => c.notNull())
                .addColumn('state', 'text', (c) => c.notNull())
                .addColumn('received_at', 'integer', (c) => c.notNull())
                .execute();
        },
        async down(db) {
            await db.schema.dropTable('commands').execute();
            await db.schema.dropTable('revoked_grants').execute();
            await db.schema.alterTable('compartments').dropColumn('session').execute();
        },
    },
    '003-keypad-lockout': {
        async up(db) {
            // One row (id 1): the keypad's failed attempts, kept across reboots (see device/keypad-lockout.ts).
            await db.schema
                .createTable('keypad_lockout')
                .addColumn('id', 'integer', (c) => c.primaryKey().check(sql `id = 1`))
                .addColumn('failures', 'integer', (c) => c.notNull())
                .addColumn('last_failure_at', 'integer', (c) => c.notNull())
                .addColumn('locked_until', 'integer', (c) => c.notNull())
                .execute();
        },
        async down(db) {
            await db.schema.dropTable('keypad_lockout').execute();
        },
    },
    '004-batches-and-moves': {
        async up(db) {
            // The parcels of each batch grant (the `items` claim), so the locker knows which compartments they hold back.
            await db.schema
                .createTable('grant_items')
                .addColumn('jti', 'text', (c) => c.notNull())
                .addColumn('parcel_id', 'text', (c) => c.notNull())
                .addColumn('compartment_id', 'text', (c) => c.notNull())
                .addPrimaryKeyConstraint('grant_items_pk', ['jti', 'parcel_id'])
                .execute();
            // Where the locker put a deposit instead of its booked compartment: a code naming `from_id` opens `to_id`.
            await db.schema
                .createTable('parcel_moves')
                .addColumn('parcel_id', 'text', (c) => c.notNull())
                .addColumn('from_id', 'text', (c) => c.notNull())
                .addColumn('to_id', 'text', (c) => c.notNull())
                .addColumn('at', 'integer', (c) => c.notNull())
                .addPrimaryKeyConstraint('parcel_moves_pk', ['parcel_id', 'from_id'])
                .execute();
        },
        async down(db) {
            await db.schema.dropTable('parcel_moves').execute();
            await db.schema.dropTable('grant_items').execute();
        },
    },
};
//# sourceMappingURL=migrations.js.map