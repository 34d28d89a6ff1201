/**
 * Queries built with Kysely once and then run with new values: building, freezing and compiling a query took
 * about a quarter of a booking's CPU (docs/performance.md). The builder still writes the SQL, so a prepared
 * query is as portable as any other (SQLite, Postgres); only the parameter values change between runs.
 *
 * The first run compiles the query with a marker in place of every value of `args` and remembers which
 * parameter each marker became; later runs with arguments of the same structure (same keys, same array
 * lengths) reuse that SQL. Values of `args` must be primitives (string, number, bigint, boolean, null).
 *
 * Two limits, by design: templates are kept per dialect adapter, so a query must not depend on a plugin that
 * rewrites queries or on `withSchema` (none of the server's does); and a null check belongs in the builder
 * (`where('x', 'is', null)`), not in `args`, since `IS $1` is not valid SQL on Postgres.
 */
import { createQueryId } from 'kysely';
const MARK = '\u0000arg:';
const MAX_SHAPES = 64;
export function prepareQuery(build) {
    // Keyed by the dialect adapter, which a database shares with all its transactions.
    const templates = new WeakMap();
    return {
        async run(db, args) {
            const dialect = db.getExecutor().adapter;
            let byShape = templates.get(dialect);
            if (!byShape)
                templates.set(dialect, (byShape = new Map()));
            const shape = shapeOf(args);
            let t = byShape.get(shape);
            if (!t) {
                t = compileTemplate(db, args, build);
                // A list of ever new lengths would make ever new shapes: past the bound they are compiled each time.
                if (byShape.size < MAX_SHAPES)
                    byShape.set(shape, t);
            }
            const parameters = t.slots.map((s) => ('path' in s ? valueAt(args, s.path) : s.value));
            const executor = db.getExecutor();
            const queryId = createQueryId();
            // Plugins see the query as built (a plugin that rewrote queries would have no effect on this SQL).
            executor.transformQuery(t.query, queryId);
            return executor.executeQuery({ query: t.query, queryId, sql: t.sql, parameters });
        },
    };
}
function compileTemplate(db, args, build) {
    const paths = new Map();
    const marked = mark(args, [], paths);
    const compiled = build(db, marked).compile();
    const seen = new Set();
    const slots = compiled.parameters.map((p) => {
        const path = typeof p === 'string' ? paths.get(p) : undefined;
        if (!path)
            return { value: p };
        seen.add(p);
        return { path };
    });
    // Every value must have become a parameter: one folded into the SQL text would be frozen at its marker.
    if (seen.size !== paths.size)
        throw new Error(`prepared query: ${paths.size - seen.size} value(s) did not become parameters`);
    return { query: compiled.query, sql: compiled.sql, slots };
}
function mark(v, path, paths) {
    if (Array.isArray(v))
        return v.map((x, i) => mark(x, [...path, i], paths));
    if (v !== null && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x, [...path, k], paths)]));
    }
    const marker = `${MARK}${paths.size}`;
    paths.set(marker, path);
    return marker;
}
/** The structure of `args` (keys in order, array lengths), not its values. */
function shapeOf(v) {
    if (Array.isArray(v))
        return `[${v.map(shapeOf).join(',')}]`;
    if (v !== null && typeof v === 'object')
        return `{${Object.entries(v).map(([k, x]) => `${k}:${shapeOf(x)}`).join(',')}}`;
    return '';
}
function valueAt(args, path) {
    let v = args;
    for (const k of path)
        v = v[k];
    if (v === undefined)
        throw new Error(`prepared query: no value at ${path.join('.')}`);
    return v;
}
//# sourceMappingURL=prepared-query.js.map