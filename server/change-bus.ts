import type { Logger } from 'pino';
import type { DeviceEvent } from '../shared/messages.js';
import type { DomainEvent, DomainListener } from './domain-events.js';

/** A batch of device events, after its transaction committed. */
export interface EventsCommitted {
  lockerId: string;
  /** Server time the batch was received (the `received_at` of the rows it inserted). */
  receivedAt: number;
  /** Every event of the batch, new and duplicate. */
  events: readonly DeviceEvent[];
  applied: number;
  duplicates: number;
}

export type Change = { kind: 'events'; batch: EventsCommitted } | { kind: 'locker'; lockerId: string };

export type ChangeListener = (change: Change) => void;

/**
 * In-process notifications of what changed, emitted after the commit: the dashboard's live stream marks the
 * locker for its next push, the metrics count codes. Listeners are synchronous and cheap; one that throws is
 * logged and never disturbs the emitter (device sync must not fail because a dashboard listener did).
 */
export class ChangeBus {
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly log?: Logger) {}

  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Device events of a locker were committed. */
  eventsCommitted(batch: EventsCommitted): void {
    this.emit({ kind: 'events', batch });
  }

  /** Something about a locker changed (an alarm acknowledged, a command created) that its views show. */
  lockerChanged(lockerId: string): void {
    this.emit({ kind: 'locker', lockerId });
  }

  // deploy: domain events (server/domain-events.ts), a channel of their own so the listeners above see no new kind.
  private readonly domainListeners = new Set<DomainListener>();

  onDomain(listener: DomainListener): () => void {
    this.domainListeners.add(listener);
    return () => this.domainListeners.delete(listener);
  }

  /** Something that matters in the domain was committed (a parcel deposited, a locker gone offline, …). */
  domain(event: DomainEvent): void {
    for (const listener of this.domainListeners) {
      try {
        listener(event);
      } catch (err) {
        this.log?.error({ err }, 'domain listener failed');
      }
    }
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log?.error({ err }, 'change listener failed');
      }
    }
  }
}
