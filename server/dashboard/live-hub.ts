import type { Logger } from 'pino';
import type { ChangeBus } from '../change-bus.js';
import type { Db } from '../store/database.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import type { LiveSnapshot, LiveUpdate, LockerSummary } from '../../shared/api/dashboard.js';
import { readUnresolvedAlarms } from '../alarms/alarm-views.js';
import { fleetTotals, readFleet } from './fleet-views.js';

export type LiveSender = (event: 'snapshot' | 'update', data: LiveSnapshot | LiveUpdate) => void;

export interface LiveHubOptions {
  db: Db;
  bus: ChangeBus;
  log: Logger;
  /** The server's clock, for the `at` of each message. */
  now: () => number;
  /** The push pace, on real timers: it is about people watching, not domain time (a manual clock must not stop it). */
  intervalMs: number;
}

/**
 * Collects changes and pushes at most one message per interval to every live subscriber. Two sources mark a
 * locker dirty: the change bus (device events committed, alarms acknowledged) and a poll-and-diff of each
 * locker's presence and desired-state version (heartbeats, online/offline, bookings, service changes), which
 * costs one narrow read of the lockers table per interval. Only dirty lockers are read again; only summaries
 * that really changed are sent. Nothing runs while nobody is subscribed.
 */
export class LiveHub {
  private readonly subscribers = new Set<LiveSender>();
  private readonly summaries = new Map<string, { view: LockerSummary; json: string }>();
  private readonly alarms = new Map<string, { items: AlarmView[]; json: string }>();
  private readonly presence = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly active = new Set<string>();
  private primed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Priming, snapshots and pushes run one after another. */
  private work: Promise<void> = Promise.resolve();
  private readonly offBus: () => void;

  constructor(private readonly o: LiveHubOptions) {
    this.offBus = o.bus.on((change) => {
      if (!this.primed) return;
      if (change.kind === 'locker') this.dirty.add(change.lockerId);
      else if (change.batch.applied > 0) {
        this.dirty.add(change.batch.lockerId);
        this.active.add(change.batch.lockerId);
      }
    });
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber; it gets a snapshot first, then updates. Returns a function that removes it. */
  subscribe(send: LiveSender): () => void {
    this.subscribers.add(send);
    this.serially(async () => {
      if (!this.subscribers.has(send)) return;
      if (!this.primed) await this.prime();
      const lockers = [...this.summaries.values()].map((s) => s.view);
      const alarms = [...this.alarms.values()].flatMap((a) => a.items);
      send('snapshot', { at: this.o.now(), totals: fleetTotals(lockers), lockers, alarms });
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.serially(() => this.push()), this.o.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.subscribers.delete(send);
      if (this.subscribers.size === 0) this.idle();
    };
  }

  close(): void {
    this.subscribers.clear();
    this.idle();
    this.offBus();
  }

  /** Nobody listens: stop the timer and forget the cache (the next subscriber primes it afresh). */
  private idle(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.serially(async () => {
      if (this.subscribers.size > 0) return;
      this.primed = false;
      this.summaries.clear();
      this.alarms.clear();
      this.presence.clear();
      this.dirty.clear();
      this.active.clear();
    });
  }

  private serially(job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((err: unknown) => this.o.log.error({ err }, 'live dashboard update failed'));
  }

  private async prime(): Promise<void> {
    this.primed = true;
    await this.pollPresence();
    this.dirty.clear();
    for (const view of await readFleet(this.o.db)) this.summaries.set(view.id, { view, json: JSON.stringify(view) });
    const alarms = await readUnresolvedAlarms(this.o.db);
    for (const a of alarms) if (this.summaries.has(a.lockerId)) this.alarmsOf(a.lockerId).items.push(a);
    for (const entry of this.alarms.values()) entry.json = JSON.stringify(entry.items);
  }

  private alarmsOf(lockerId: string): { items: AlarmView[]; json: string } {
    let entry = this.alarms.get(lockerId);
    if (!entry) this.alarms.set(lockerId, (entry = { items: [], json: '[]' }));
    return entry;
  }

  /** Marks lockers whose presence or desired-state version moved since the last look. */
  private async pollPresence(): Promise<void> {
    const rows = await this.o.db.selectFrom('lockers').select(['id', 'online', 'last_seen_at', 'desired_version', 'reported_version']).execute();
    for (const r of rows) {
      const sig = `${r.online}|${r.last_seen_at ?? ''}|${r.desired_version}|${r.reported_version}`;
      if (this.presence.get(r.id) !== sig) {
        this.presence.set(r.id, sig);
        this.dirty.add(r.id);
      }
    }
  }

  private async push(): Promise<void> {
    if (!this.primed || this.subscribers.size === 0) return;
    await this.pollPresence();
    const ids = [...this.dirty];
    this.dirty.clear();
    const activity = [...this.active];
    this.active.clear();
    if (ids.length === 0 && activity.length === 0) return;

    const lockers: LockerSummary[] = [];
    for (const view of await readFleet(this.o.db, ids)) {
      const json = JSON.stringify(view);
      if (this.summaries.get(view.id)?.json === json) continue;
      this.summaries.set(view.id, { view, json });
      lockers.push(view);
    }
    const fresh = new Map<string, AlarmView[]>(ids.map((id) => [id, []]));
    for (const a of await readUnresolvedAlarms(this.o.db, ids)) fresh.get(a.lockerId)?.push(a);
    const alarmLockers: string[] = [];
    const alarmItems: AlarmView[] = [];
    for (const [lockerId, items] of fresh) {
      const json = JSON.stringify(items);
      if ((this.alarms.get(lockerId)?.json ?? '[]') === json) continue;
      this.alarms.set(lockerId, { items, json });
      alarmLockers.push(lockerId);
      alarmItems.push(...items);
    }
    if (lockers.length === 0 && alarmLockers.length === 0 && activity.length === 0) return;
    const update: LiveUpdate = {
      at: this.o.now(),
      totals: fleetTotals([...this.summaries.values()].map((s) => s.view)),
      lockers,
      alarms: { lockerIds: alarmLockers, items: alarmItems },
      activity,
    };
    for (const send of this.subscribers) send('update', update);
  }
}
