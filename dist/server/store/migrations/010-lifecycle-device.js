/**
 * Lifecycle, device side: the latest telemetry each locker sent with its heartbeat (firmware, temperature,
 * power). Batch deposits and moved parcels need no new tables: a batch grant is a row of `grants`
 * (action `deposit_batch`), a move updates `parcels` and `compartments`.
 */
export const lifecycleDevice = {
    async up(db) {
        // One column per statement: SQLite alters one at a time.
        await db.schema.alterTable('lockers').addColumn('firmware_version', 'text').execute();
        await db.schema.alterTable('lockers').addColumn('temperature_c', 'real').execute();
        await db.schema.alterTable('lockers').addColumn('power_source', 'text').execute();
        await db.schema.alterTable('lockers').addColumn('battery_pct', 'integer').execute();
        await db.schema.alterTable('lockers').addColumn('telemetry_at', 'bigint').execute();
    },
    async down(db) {
        for (const c of ['telemetry_at', 'battery_pct', 'power_source', 'temperature_c', 'firmware_version']) {
            await db.schema.alterTable('lockers').dropColumn(c).execute();
        }
    },
};
//# sourceMappingURL=010-lifecycle-device.js.map