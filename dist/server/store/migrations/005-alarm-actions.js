/** Who acknowledged and who resolved an alarm, and when; the last note an operator gave. */
export const alarmActions = {
    async up(db) {
        await db.schema.alterTable('alarms').addColumn('acknowledged_at', 'bigint').execute();
        await db.schema.alterTable('alarms').addColumn('acknowledged_by', 'text').execute();
        await db.schema.alterTable('alarms').addColumn('resolved_at', 'bigint').execute();
        await db.schema.alterTable('alarms').addColumn('resolved_by', 'text').execute();
        await db.schema.alterTable('alarms').addColumn('note', 'text').execute();
        // The dashboard and the metrics read alarms by state.
        await db.schema.createIndex('alarms_state').on('alarms').columns(['state', 'last_at']).execute();
    },
    async down(db) {
        await db.schema.dropIndex('alarms_state').execute();
        for (const column of ['note', 'resolved_by', 'resolved_at', 'acknowledged_by', 'acknowledged_at']) {
            await db.schema.alterTable('alarms').dropColumn(column).execute();
        }
    },
};
//# sourceMappingURL=005-alarm-actions.js.map