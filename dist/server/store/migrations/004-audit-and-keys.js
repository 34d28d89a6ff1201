import { sql } from 'kysely';
import { serialKey } from '../dialect.js';
/** The audit log (remote opens, key actions) and the life of grant-signing keys (rotation). */
export const auditAndKeys = {
    async up(db) {
        await db.schema
            .createTable('audit_log')
            .addColumn('id', 'integer', serialKey(db))
            .addColumn('at', 'bigint', (c) => c.notNull())
            .addColumn('actor', 'text', (c) => c.notNull())
            .addColumn('action', 'text', (c) => c.notNull())
            .addColumn('locker_id', 'text')
            .addColumn('compartment_id', 'text')
            .addColumn('reason', 'text')
            .addColumn('result', 'text', (c) => c.notNull())
            .addColumn('code', 'text')
            .addColumn('command_id', 'text')
            .addColumn('subject', 'text')
            .addColumn('detail', 'text')
            .execute();
        // The remote-open limits count recent opens per actor and across the fleet.
        await db.schema.createIndex('audit_log_action_at').on('audit_log').columns(['action', 'result', 'at']).execute();
        await db.schema.createIndex('audit_log_actor_at').on('audit_log').columns(['actor', 'action', 'result', 'at']).execute();
        await db.schema
            .createTable('signing_keys')
            .addColumn('kid', 'text', (c) => c.primaryKey())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('public_x', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('activated_at', 'bigint')
            .addColumn('retired_at', 'bigint')
            .execute();
        // At most one active and one next key, whatever happens in the code above.
        for (const status of ['active', 'next']) {
            await db.schema
                .createIndex(`signing_keys_one_${status}`)
                .unique()
                .on('signing_keys')
                .column('status')
                .where(sql.ref('status'), '=', status)
                .execute();
        }
        await db.schema
            .createTable('key_deliveries')
            .addColumn('kid', 'text', (c) => c.notNull())
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            .addPrimaryKeyConstraint('key_deliveries_pk', ['kid', 'locker_id'])
            .execute();
        await db.schema.createIndex('grants_kid').on('grants').columns(['kid', 'status', 'exp']).execute();
    },
    async down(db) {
        await db.schema.dropIndex('grants_kid').execute();
        await db.schema.dropTable('key_deliveries').execute();
        await db.schema.dropTable('signing_keys').execute();
        await db.schema.dropTable('audit_log').execute();
    },
};
//# sourceMappingURL=004-audit-and-keys.js.map