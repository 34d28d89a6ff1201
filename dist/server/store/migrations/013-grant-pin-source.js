/**
 * Grants by the grant whose PIN they keep: a recipient asking for their code looks up the newest grant that kept
 * it. Without the index that lookup scans every grant (1.8 ms on average at 6,000 grants in the simulator, growing
 * with the table; docs/simulator.md).
 */
export const grantPinSource = {
    async up(db) {
        await db.schema.createIndex('grants_pin_jti').on('grants').columns(['pin_jti', 'exp']).execute();
    },
    async down(db) {
        await db.schema.dropIndex('grants_pin_jti').execute();
    },
};
//# sourceMappingURL=013-grant-pin-source.js.map