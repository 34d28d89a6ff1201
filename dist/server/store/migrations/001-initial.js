import { doubleType, serialKey } from '../dialect.js';
/** Lockers, compartments, parcels, grants, history, device events, desired state, notifications. */
export const initial = {
    async up(db) {
        await db.schema
            .createTable('lockers')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('lat', doubleType(db), (c) => c.notNull())
            .addColumn('lon', doubleType(db), (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('secret_hash', 'text', (c) => c.notNull())
            .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('last_seen_at', 'bigint')
            .addColumn('boot_id', 'text')
            .addColumn('desired_version', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('reported_version', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
        await db.schema
            .createTable('compartments')
            .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
            .addColumn('id', 'text', (c) => c.notNull())
            .addColumn('size', 'text', (c) => c.notNull())
            .addColumn('in_service', 'integer', (c) => c.notNull().defaultTo(1))
            .addColumn('parcel_id', 'text')
            .addPrimaryKeyConstraint('compartments_pk', ['locker_id', 'id'])
            .execute();
        await db.schema
            .createIndex('compartments_parcel_unique')
            .unique()
            .on('compartments')
            .column('parcel_id')
            .execute();
        await db.schema
            .createTable('parcels')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('locker_id', 'text', (c) => c.notNull().references('lockers.id'))
            .addColumn('compartment_id', 'text', (c) => c.notNull())
            .addColumn('size', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('reference', 'text', (c) => c.notNull())
            .addColumn('recipient', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('updated_at', 'bigint', (c) => c.notNull())
            .addColumn('deposited_at', 'bigint')
            .addColumn('picked_up_at', 'bigint')
            .execute();
        await db.schema.createIndex('parcels_locker').on('parcels').columns(['locker_id', 'status']).execute();
        await db.schema
            .createTable('grants')
            .addColumn('jti', 'text', (c) => c.primaryKey())
            .addColumn('parcel_id', 'text', (c) => c.notNull().references('parcels.id'))
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('compartment_id', 'text', (c) => c.notNull())
            .addColumn('action', 'text', (c) => c.notNull())
            .addColumn('pin_hash', 'text', (c) => c.notNull())
            .addColumn('token', 'text', (c) => c.notNull())
            .addColumn('kid', 'text', (c) => c.notNull())
            .addColumn('nbf', 'bigint', (c) => c.notNull())
            .addColumn('exp', 'bigint', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('used_at', 'bigint')
            .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
        await db.schema.createIndex('grants_locker_pin').on('grants').columns(['locker_id', 'pin_hash', 'status']).execute();
        await db.schema.createIndex('grants_parcel').on('grants').column('parcel_id').execute();
        await db.schema
            .createTable('parcel_history')
            .addColumn('id', 'integer', serialKey(db))
            .addColumn('parcel_id', 'text', (c) => c.notNull())
            .addColumn('at', 'bigint', (c) => c.notNull())
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('source', 'text', (c) => c.notNull())
            .addColumn('source_ref', 'text')
            .addColumn('detail', 'text')
            .execute();
        await db.schema.createIndex('parcel_history_parcel').on('parcel_history').columns(['parcel_id', 'id']).execute();
        await db.schema
            .createTable('device_events')
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('seq', 'bigint', (c) => c.notNull())
            .addColumn('event_id', 'text', (c) => c.notNull())
            .addColumn('boot_id', 'text', (c) => c.notNull())
            .addColumn('device_at', 'bigint', (c) => c.notNull())
            .addColumn('received_at', 'bigint', (c) => c.notNull())
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('body', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('device_events_pk', ['locker_id', 'seq'])
            .execute();
        await db.schema
            .createTable('desired_changes')
            .addColumn('locker_id', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            .addColumn('changes', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addPrimaryKeyConstraint('desired_changes_pk', ['locker_id', 'version'])
            .execute();
        await db.schema
            .createTable('notifications')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('parcel_id', 'text', (c) => c.notNull())
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('recipient', 'text', (c) => c.notNull())
            .addColumn('grant_jti', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .execute();
        await db.schema.createIndex('notifications_parcel').on('notifications').column('parcel_id').execute();
    },
    async down(db) {
        for (const t of [
            'notifications',
            'desired_changes',
            'device_events',
            'parcel_history',
            'grants',
            'parcels',
            'compartments',
            'lockers',
        ]) {
            await db.schema.dropTable(t).execute();
        }
    },
};
//# sourceMappingURL=001-initial.js.map