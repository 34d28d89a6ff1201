import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
const require = createRequire(import.meta.url);
// aedes' own memory persistence (the default it would make), reached by path: the package exports no subclassing API.
const AsyncMemory = require('aedes-persistence/asyncPersistence.js');
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js');
const wildcard = (pattern) => pattern.includes('+') || pattern.includes('#');
/**
 * aedes' memory persistence answers every subscription by matching it against every retained message. Each
 * locker keeps one retained status, and each subscribes by exact topic, so connecting a fleet cost
 * O(lockers²): 45 % of the server's time in a reconnect storm (docs/performance.md). This one keeps an index by
 * exact topic beside it and answers exact subscriptions from it; wildcard ones (the server's) go the old way.
 */
class IndexedRetained extends AsyncMemory {
    #byTopic = new Map();
    async storeRetained(packet) {
        if (packet.payload.length === 0)
            this.#byTopic.delete(packet.topic);
        else
            this.#byTopic.set(packet.topic, { ...packet });
        await super.storeRetained(packet);
    }
    createRetainedStreamCombi(patterns) {
        if (patterns.some(wildcard))
            return super.createRetainedStreamCombi(patterns);
        return Readable.from(patterns.flatMap((p) => this.#hit(p)));
    }
    createRetainedStream(pattern) {
        if (wildcard(pattern))
            return super.createRetainedStream(pattern);
        return Readable.from(this.#hit(pattern));
    }
    #hit(topic) {
        const packet = this.#byTopic.get(topic);
        return packet ? [packet] : [];
    }
}
/** The persistence to hand aedes: its memory persistence with retained messages indexed by exact topic. */
export function indexedMemoryPersistence() {
    return new CallBackPersistence((opts) => new IndexedRetained(opts));
}
//# sourceMappingURL=retained-index.js.map