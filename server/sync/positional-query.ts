import type { Compilable, CompiledQuery, Kysely, QueryId, QueryResult, RootOperationNode } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * The device-event hot path's statements: built with Kysely once per dialect and batch shape, then run with
 * positional arguments. server/store/prepared-query.ts does the same for any query with named arguments; on
 * event batches its per-run costs (deriving the arguments' shape, walking their paths, timing each query)
 * were about 8 % of the server's time (docs/performance.md, events), so the few statements run for every
 * batch use this leaner form: `p(i)` stands for argument `i` (typed `never`, so it fits any column; it may
 * be used more than once), values the builder writes itself stay constants. Group-level timing is not kept
 * per statement.
 */
export type Placeholder = (index: number) => never;

const MARK = '\u0000arg#';
const placeholder: Placeholder = (index) => `${MARK}${index}` as never;

interface Template {
  sql: string;
  query: RootOperationNode;
  /** For each parameter of the SQL: the argument it takes (a number), or a constant. */
  slots: (number | { value: unknown })[];
}

/** Compiled queries never meet a plugin's transformQuery, so no plugin keeps state by this id. */
const QUERY_ID: QueryId = { queryId: 'positional' };

export class PositionalQuery<R> {
  /** Keyed by the dialect adapter, which a database shares with its transactions. */
  readonly #templates = new WeakMap<object, Template>();

  constructor(
    private readonly arity: number,
    private readonly build: (db: Kysely<Database>, p: Placeholder) => Compilable<R>,
  ) {}

  /** Runs the query with `args` on `db` (the database or a transaction). */
  run(db: Kysely<Database>, args: readonly unknown[]): Promise<QueryResult<R>> {
    const executor = db.getExecutor();
    let t = this.#templates.get(executor.adapter);
    if (!t) this.#templates.set(executor.adapter, (t = this.#compile(db)));
    const parameters = t.slots.map((s) => (typeof s === 'number' ? args[s] : s.value));
    const compiled: CompiledQuery<R> = { sql: t.sql, query: t.query, parameters, queryId: QUERY_ID };
    return db.executeQuery(compiled);
  }

  #compile(db: Kysely<Database>): Template {
    // Without plugins: the query-timing plugin would start a timer for a query that never runs.
    const compiled = this.build(db.withoutPlugins(), placeholder).compile();
    const used = new Set<number>();
    const slots = compiled.parameters.map((value) => {
      if (typeof value === 'string' && value.startsWith(MARK)) {
        const arg = Number(value.slice(MARK.length));
        used.add(arg);
        return arg;
      }
      return { value };
    });
    // A placeholder folded into the SQL text, or one never used, would run with wrong values: refuse at once.
    if (used.size !== this.arity || [...used].some((a) => !(a >= 0 && a < this.arity))) {
      throw new Error(`positional query: expected arguments 0..${this.arity - 1}, the SQL uses ${[...used].sort((a, b) => a - b).join(',')}`);
    }
    return { sql: compiled.sql, query: compiled.query, slots };
  }
}
