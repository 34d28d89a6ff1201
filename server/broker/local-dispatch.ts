import type { PublishPacket } from 'aedes';
import { topicMatches } from './external-broker.js';

type Deliver = (topic: string, payload: Buffer) => void;

/**
 * The server's subscriptions in a fleet of brokers (REDIS_URL). aedes calls `published` for every message published
 * through this process's broker: by a locker connected here, as a locker's will, or by the server itself (which
 * publishes only server → device topics, never matching its own subscriptions). Messages published at another
 * process arrive through Redis and do not pass here. So each device message is handled once, by the process its
 * locker is connected to, and no process receives the whole fleet's traffic to read it.
 */
export class LocalDispatch {
  readonly #subscriptions: { filter: string; deliver: Deliver }[] = [];

  add(filter: string, deliver: Deliver): void {
    this.#subscriptions.push({ filter, deliver });
  }

  /** aedes' `published` hook: answers at once (the PUBACK does not wait for the handler), then delivers. */
  published(packet: PublishPacket, done: (err?: Error | null) => void): void {
    done(null);
    if (packet.topic.startsWith('$')) return;
    for (const { filter, deliver } of this.#subscriptions) {
      if (!topicMatches(filter, packet.topic)) continue;
      deliver(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    }
  }
}
