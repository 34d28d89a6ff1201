/**
 * What-if patches, applied only inside a benchmark host process and only when a run asks for them
 * (`--what-if`): they measure what a proposed change to server/ would gain, without touching server/.
 * They never affect the main figures, which always run the code as shipped.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { Aedes } from 'aedes';
import SQLite from 'better-sqlite3';

export type Patch = 'async-release' | 'retained-index' | 'statement-cache' | 'group-commit' | 'release-guard' | 'heartbeat-batch';

/**
 * Patches that replace a whole server module with a proposed version in bench/what-if/ (through module hooks,
 * bench/what-if-loader.mjs, registered before the server loads): [original, replacement], from the repository
 * root and from bench/what-if/.
 */
const MODULE_PATCHES: Partial<Record<Patch, readonly [string, string]>> = {
  'group-commit': ['server/sync/handle-events.ts', 'what-if/handle-events.ts'],
  'release-guard': ['server/sync/release-compartments.ts', 'what-if/release-compartments.ts'],
  'heartbeat-batch': ['server/sync/device-router.ts', 'what-if/device-router.ts'],
};

/** The module replacements `patches` ask for (the host's config carries them to bench/what-if-register.mjs). */
export function moduleReplacements(patches: readonly Patch[]): [string, string][] {
  return patches.flatMap((p) => {
    const r = MODULE_PATCHES[p];
    return r ? [[r[0], r[1]] as [string, string]] : [];
  });
}

const require = createRequire(import.meta.url);

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}
interface MemoryPersistenceProto {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
}

/**
 * aedes-persistence (memory) answers every SUBSCRIBE by testing the filter against every retained message: with
 * one retained status per locker that is O(lockers) per subscription, O(lockers²) for a fleet connecting. A
 * filter without wildcards (all a locker may use) can be looked up directly.
 */
function retainedIndex(): void {
  const proto = (require('aedes-persistence/asyncPersistence.js') as { prototype: MemoryPersistenceProto }).prototype;
  const exact = new WeakMap<object, Map<string, RetainedPacket>>();
  const store = proto.storeRetained;
  const combi = proto.createRetainedStreamCombi;
  const single = proto.createRetainedStream;
  const indexOf = (self: object) => {
    let m = exact.get(self);
    if (!m) exact.set(self, (m = new Map()));
    return m;
  };
  const wild = (p: string) => p.includes('+') || p.includes('#');
  proto.storeRetained = function (this: MemoryPersistenceProto, packet) {
    const m = indexOf(this);
    if (packet.payload.length === 0) m.delete(packet.topic);
    else m.set(packet.topic, { ...packet });
    return store.call(this, packet);
  };
  proto.createRetainedStreamCombi = function (this: MemoryPersistenceProto, patterns) {
    if (patterns.some(wild)) return combi.call(this, patterns);
    const m = indexOf(this);
    return Readable.from(patterns.map((p) => m.get(p)).filter((p): p is RetainedPacket => p !== undefined));
  };
  proto.createRetainedStream = function (this: MemoryPersistenceProto, pattern) {
    if (wild(pattern)) return single.call(this, pattern);
    const hit = indexOf(this).get(pattern);
    return Readable.from(hit ? [hit] : []);
  };
}

/**
 * Kysely's SQLite driver prepares every query anew (better-sqlite3 `prepare` parses and plans the SQL each time).
 * Cache the statements by SQL text, per database, as a dialect wrapper would.
 */
function statementCache(): void {
  const proto = SQLite.prototype as unknown as { prepare(sql: string): unknown };
  const prepare = proto.prepare;
  const caches = new WeakMap<object, Map<string, unknown>>();
  proto.prepare = function (this: object, sql: string) {
    let cache = caches.get(this);
    if (!cache) caches.set(this, (cache = new Map()));
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = prepare.call(this, sql);
      if (cache.size < 2000) cache.set(sql, stmt);
    }
    return stmt;
  };
}

type Deliver = (packet: unknown, cb: () => void) => void;

/**
 * The server's in-process subscription hands aedes its delivery slot back synchronously (so a handler never
 * holds it while it publishes). mqemitter then starts the next queued message inside that very call: with
 * thousands queued (a fleet reconnecting at once) the recursion overflows the stack and the process dies with
 * "Maximum call stack size exceeded". aedes' own client deliveries give the slot back with setImmediate; here
 * the server's do too. Only wildcard subscriptions are the server's (lockers may not use wildcards).
 */
function asyncRelease(): void {
  const proto = Aedes.prototype as unknown as { subscribe(topic: string, fn: Deliver, done?: () => void): void };
  const subscribe = proto.subscribe;
  proto.subscribe = function (this: unknown, topic, fn, done) {
    if (!topic.includes('+') && !topic.includes('#')) return subscribe.call(this, topic, fn, done);
    const deferred: Deliver = (packet, cb) => fn(packet, () => setImmediate(cb));
    return subscribe.call(this, topic, deferred, done);
  };
}

export function applyPatches(patches: readonly Patch[]): void {
  if (patches.includes('async-release')) asyncRelease();
  if (patches.includes('retained-index')) retainedIndex();
  if (patches.includes('statement-cache')) statementCache();
}

/** Every patch a run can name with `--what-if=…`. */
export const PATCHES: readonly Patch[] = ['async-release', 'retained-index', 'statement-cache', 'group-commit', 'release-guard', 'heartbeat-batch'];

/**
 * Patches the server has taken since they were measured (commit 70a5aea, after the runs in docs/performance.md).
 * Their module replacements are copies of the older server files: on the current code they would undo later
 * changes, so a bare `--what-if` leaves them out (name one explicitly only on a checkout from before).
 */
export const APPLIED: readonly Patch[] = ['async-release', 'retained-index', 'statement-cache', 'group-commit', 'release-guard', 'heartbeat-batch'];

/** What a bare `--what-if` runs: the patches not in the server yet. */
export const PENDING: readonly Patch[] = PATCHES.filter((p) => !APPLIED.includes(p));

/** `--what-if` (every pending patch) or `--what-if=a,b`; null when `arg` is not that flag or names an unknown patch. */
export function parseWhatIf(arg: string): readonly Patch[] | null {
  if (arg === '--what-if') return PENDING;
  if (!arg.startsWith('--what-if=')) return null;
  const names = arg.slice('--what-if='.length).split(',');
  return names.every((n) => (PATCHES as readonly string[]).includes(n)) ? (names as Patch[]) : null;
}
