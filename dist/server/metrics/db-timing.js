const OPERATIONS = {
    SelectQueryNode: 'select',
    InsertQueryNode: 'insert',
    UpdateQueryNode: 'update',
    DeleteQueryNode: 'delete',
    RawNode: 'raw',
};
/** The first table a query names (`alias` nodes unwrapped), or "other". */
function tableOf(node) {
    let n = node;
    for (let depth = 0; n && depth < 4; depth++) {
        if (n.kind === 'TableNode') {
            const name = n.table?.identifier?.name;
            return name && /^[a-z_]{1,40}$/.test(name) ? name : 'other';
        }
        n = n.kind === 'AliasNode' ? n.node : undefined;
    }
    return 'other';
}
function labelsOf(node) {
    const n = node;
    const operation = OPERATIONS[node.kind] ?? 'other';
    const target = n.kind === 'InsertQueryNode' ? n.into : n.kind === 'UpdateQueryNode' ? n.table : n.from?.froms?.[0];
    return { operation, table: operation === 'raw' ? 'raw' : tableOf(target) };
}
/**
 * A Kysely plugin that times every query from the moment it is handed to the driver until its result is back
 * (waiting for the connection included: the latency the caller sees). Failed queries are not timed.
 */
export function queryTimingPlugin(observe) {
    const started = new WeakMap();
    return {
        transformQuery(args) {
            started.set(args.queryId, { at: process.hrtime.bigint(), labels: labelsOf(args.node) });
            return args.node;
        },
        async transformResult(args) {
            const start = started.get(args.queryId);
            if (start) {
                started.delete(args.queryId);
                observe(Number(process.hrtime.bigint() - start.at) / 1e9, start.labels);
            }
            return args.result;
        },
    };
}
//# sourceMappingURL=db-timing.js.map