import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { isWildcard } from '../../shared/topics.js';

const require = createRequire(import.meta.url);

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

interface MemoryPersistence {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
}

type MemoryPersistenceClass = new (opts?: unknown) => MemoryPersistence;
type CallBackPersistenceClass = new (factory: (opts: unknown) => MemoryPersistence, opts?: unknown) => unknown;

// aedes' own memory persistence (the default it would make), reached by path: the package exports no subclassing API.
const AsyncMemory = require('aedes-persistence/asyncPersistence.js') as MemoryPersistenceClass;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as { CallBackPersistence: CallBackPersistenceClass };

/**
 * aedes' memory persistence answers every subscription by matching it against every retained message. Each
 * locker keeps one retained status, and each subscribes by exact topic, so connecting a fleet cost
 * O(lockers²): 45 % of the server's time in a reconnect storm (docs/performance.md). This one keeps an index by
 * exact topic beside it and answers exact subscriptions from it; wildcard ones (the server's) go the old way.
 */
class IndexedRetained extends AsyncMemory {
  readonly #byTopic = new Map<string, RetainedPacket>();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    if (packet.payload.length === 0) this.#byTopic.delete(packet.topic);
    else this.#byTopic.set(packet.topic, { ...packet });
    await super.storeRetained(packet);
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    if (patterns.some(isWildcard)) return super.createRetainedStreamCombi(patterns);
    return Readable.from(patterns.flatMap((p) => this.#hit(p)));
  }

  override createRetainedStream(pattern: string): Readable {
    if (isWildcard(pattern)) return super.createRetainedStream(pattern);
    return Readable.from(this.#hit(pattern));
  }

  #hit(topic: string): RetainedPacket[] {
    const packet = this.#byTopic.get(topic);
    return packet ? [packet] : [];
  }
}

/** The persistence to hand aedes: its memory persistence with retained messages indexed by exact topic. */
export function indexedMemoryPersistence(): unknown {
  return new CallBackPersistence((opts) => new IndexedRetained(opts));
}
