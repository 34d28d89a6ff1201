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
import { createQueryId, type Compilable, type Kysely, type QueryResult, type RootOperationNode } from 'kysely';
import type { Database } from './schema.js';

type Slot = { path: readonly (string | number)[] } | { value: unknown };

interface Template {
  /** The query's tree: plugins that observe queries (server/metrics times each one) see it on every run. */
  query: RootOperationNode;
  sql: string;
  slots: readonly Slot[];
}

type Args = Readonly<Record<string, unknown>>;

export interface PreparedQuery<A extends Args, R> {
  /** Runs the query on `db`, the database or a transaction (compiled once per database: its dialect's SQL). */
  run(db: Kysely<Database>, args: A): Promise<QueryResult<R>>;
}

const MARK = '\u0000arg:';
const MAX_SHAPES = 64;

export function prepareQuery<A extends Args, R>(build: (db: Kysely<Database>, args: A) => Compilable<R>): PreparedQuery<A, R> {
  // Keyed by the dialect adapter, which a database shares with all its transactions.
  const templates = new WeakMap<object, Map<string, Template>>();
  return {
    async run(db, args) {
      const dialect = db.getExecutor().adapter;
      let byShape = templates.get(dialect);
      if (!byShape) templates.set(dialect, (byShape = new Map()));
      const shape = shapeOf(args);
      let t = byShape.get(shape);
      if (!t) {
        t = compileTemplate(db, args, build);
        // A list of ever new lengths would make ever new shapes: past the bound they are compiled each time.
        if (byShape.size < MAX_SHAPES) byShape.set(shape, t);
      }
      const parameters = t.slots.map((s) => ('path' in s ? valueAt(args, s.path) : s.value));
      const executor = db.getExecutor();
      const queryId = createQueryId();
      // Plugins see the query as built (a plugin that rewrote queries would have no effect on this SQL).
      executor.transformQuery(t.query, queryId);
      return executor.executeQuery<R>({ query: t.query, queryId, sql: t.sql, parameters });
    },
  };
}

function compileTemplate<A extends Args, R>(db: Kysely<Database>, args: A, build: (db: Kysely<Database>, args: A) => Compilable<R>): Template {
  const paths = new Map<string, (string | number)[]>();
  const marked = mark(args, [], paths) as A;
  const compiled = build(db, marked).compile();
  const seen = new Set<string>();
  const slots = compiled.parameters.map((p): Slot => {
    const path = typeof p === 'string' ? paths.get(p) : undefined;
    if (!path) return { value: p };
    seen.add(p as string);
    return { path };
  });
  // Every value must have become a parameter: one folded into the SQL text would be frozen at its marker.
  if (seen.size !== paths.size) throw new Error(`prepared query: ${paths.size - seen.size} value(s) did not become parameters`);
  return { query: compiled.query, sql: compiled.sql, slots };
}

function mark(v: unknown, path: (string | number)[], paths: Map<string, (string | number)[]>): unknown {
  if (Array.isArray(v)) return v.map((x, i) => mark(x, [...path, i], paths));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x, [...path, k], paths)]));
  }
  const marker = `${MARK}${paths.size}`;
  paths.set(marker, path);
  return marker;
}

/** The structure of `args` (keys in order, array lengths), not its values. */
function shapeOf(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shapeOf).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}:${shapeOf(x)}`).join(',')}}`;
  return '';
}

function valueAt(args: unknown, path: readonly (string | number)[]): unknown {
  let v = args;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  if (v === undefined) throw new Error(`prepared query: no value at ${path.join('.')}`);
  return v;
}
