import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KyselyPlugin } from 'kysely';
import type { Logger } from 'pino';
import { COMMAND_TYPES } from '../../shared/messages.js';
import { parseTopic } from '../../shared/topics.js';
import type { BrokerLink } from '../broker/link.js';
import type { ChangeBus, EventsCommitted } from '../change-bus.js';
import type { ServerStats } from '../stats.js';
import type { Db } from '../store/database.js';
import { ALARM_STATES } from '../../shared/api/alarms.js';
import { COMMAND_STATES } from '../../shared/api/commands.js';
import { queryTimingPlugin } from './db-timing.js';

export interface MetricsSources {
  db: Db;
  stats: ServerStats;
  bus: ChangeBus;
  log: Logger;
  connectedLockers(): number;
  liveSubscribers(): number;
  /** In a fleet of brokers (REDIS_URL): messages delivered in this process alone, and through Redis. */
  fleetRouted?(): { local: number; fleet: number };
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const DB_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Reasons a device may report are free text: only tidy codes become label values, and only so many of them. */
const MAX_REASONS = 32;

const topicKind = (topic: string): string => parseTopic(topic)?.kind ?? 'unknown';

/**
 * Every metric of one server, in its own registry (several servers may share a process in tests). Counters
 * the server already keeps (ServerStats) are bridged at scrape time; gauges that live in the database are read
 * at scrape time; codes are counted from committed device events on the change bus.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly dbDuration: Histogram<'operation' | 'table'>;
  private readonly mqttIn: Counter<'kind'>;
  private readonly mqttOut: Counter<'kind'>;
  private readonly codes: Counter<'result' | 'action' | 'via' | 'reason'>;
  private readonly reasons = new Set<string>();
  private offBus: () => void = () => {};

  /** The metrics that need nothing but the registry; `bind` adds the ones read from the server's parts. */
  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'lockstep_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status (live streams excluded).',
      labelNames: ['route', 'method', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.dbDuration = new Histogram({
      name: 'lockstep_db_query_duration_seconds',
      help: 'Database query latency as the caller sees it, by operation and first table.',
      labelNames: ['operation', 'table'],
      buckets: DB_BUCKETS,
      registers,
    });
    this.mqttIn = new Counter({ name: 'lockstep_mqtt_messages_received_total', help: 'MQTT messages from lockers handled by the server, by topic kind.', labelNames: ['kind'], registers });
    this.mqttOut = new Counter({ name: 'lockstep_mqtt_messages_sent_total', help: 'MQTT messages the server published to lockers, by topic kind.', labelNames: ['kind'], registers });
    this.codes = new Counter({
      name: 'lockstep_codes_total',
      help: 'Codes entered at lockers (from committed device events): result accepted or rejected, grant action, keypad or scanner, rejection reason.',
      labelNames: ['result', 'action', 'via', 'reason'],
      registers,
    });
  }

  /** Reads the server's parts at scrape time, and counts codes from committed device events. */
  bind(s: MetricsSources): void {
    const registers = [this.registry];
    this.bridgeStats(s.stats, registers);
    this.databaseGauges(s.db, registers);
    new Gauge({ name: 'lockstep_mqtt_connected_lockers', help: 'Lockers connected to the embedded broker now.', registers, collect() { this.set(s.connectedLockers()); } });
    new Gauge({ name: 'lockstep_live_subscribers', help: 'Dashboard live streams open now.', registers, collect() { this.set(s.liveSubscribers()); } });
    const routed = s.fleetRouted;
    if (routed) {
      new Counter({
        name: 'lockstep_mqtt_fleet_routed_total',
        help: 'Messages of this process\'s broker in a fleet (REDIS_URL): delivered here alone (route="local") or through Redis (route="fleet").',
        labelNames: ['route'],
        registers,
        collect() {
          this.reset();
          const r = routed();
          this.inc({ route: 'local' }, r.local);
          this.inc({ route: 'fleet' }, r.fleet);
        },
      });
    }
    this.offBus = s.bus.on((change) => {
      if (change.kind === 'events' && change.batch.applied > 0) {
        this.countCodes(s.db, change.batch).catch((err: unknown) => s.log.warn({ err, lockerId: change.batch.lockerId }, 'code metrics lost for a batch'));
      }
    });
  }

  /** A Kysely plugin timing every query into lockstep_db_query_duration_seconds. */
  queryTimer(): KyselyPlugin {
    return queryTimingPlugin((seconds, labels) => this.dbDuration.observe(labels, seconds));
  }

  /** The broker link, counting what goes through it. */
  countingLink(link: BrokerLink): BrokerLink {
    return {
      publish: (topic, payload, options) => {
        this.mqttOut.inc({ kind: topicKind(topic) });
        return link.publish(topic, payload, options);
      },
      subscribe: (filter, handler) =>
        link.subscribe(filter, (topic, payload) => {
          this.mqttIn.inc({ kind: topicKind(topic) });
          return handler(topic, payload);
        }),
    };
  }

  close(): void {
    this.offBus();
    this.registry.clear();
  }

  private bridgeStats(stats: ServerStats, registers: Registry[]): void {
    const bridged: [string, string, () => number][] = [
      ['lockstep_device_events_committed_total', 'Device events committed (each (locker, seq) once).', () => stats.eventsApplied],
      ['lockstep_device_events_duplicate_total', 'Device events received again and ignored (normal: redelivery, resends).', () => stats.eventsDuplicate],
      ['lockstep_device_events_anomalous_total', 'Device events that referred to something the server does not know.', () => stats.eventsAnomalous],
      ['lockstep_grant_reuse_total', 'Grants reported used more than once.', () => stats.grantReuse],
      ['lockstep_parcels_rebooked_total', 'Booked parcels given another compartment because the locker put a parcel into theirs.', () => stats.rebooked],
      ['lockstep_mqtt_auth_failures_total', 'Broker connections refused for bad credentials.', () => stats.authFailures],
      ['lockstep_mqtt_sign_ins_busy_total', 'Broker sign-ins refused as busy (CONNACK 3): too many were waiting for their check.', () => stats.signInsBusy],
      ['lockstep_mqtt_sign_ins_doubtful_total', 'Broker sign-ins whose token did not verify against the key last read for the locker (or of a locker not enrolled then): checked in a narrow line of their own.', () => stats.signInsDoubtful],
      ['lockstep_mqtt_sign_ins_doubtful_busy_total', 'Of the busy refusals, those of doubtful sign-ins (their own line was full).', () => stats.signInsDoubtfulBusy],
      ['lockstep_mqtt_sign_ins_gone_total', 'Broker sign-ins not checked because the client had gone by their turn.', () => stats.signInsGone],
      ['lockstep_mqtt_sign_ins_timed_out_total', 'Broker sign-in checks that ran out of time (slow or hung database), answered CONNACK 3.', () => stats.signInsTimedOut],
      ['lockstep_mqtt_acl_denied_total', 'Publishes and subscriptions refused by the per-locker topic rules.', () => stats.aclDenied],
      ['lockstep_after_commit_failures_total', 'Work after a commit (desired-state publishes) that failed; the next snapshot carries it.', () => stats.afterCommitFailures],
    ];
    for (const [name, help, read] of bridged) {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    }
    new Counter({
      name: 'lockstep_mqtt_messages_rejected_total',
      help: 'MQTT payloads from lockers refused (invalid, unknown topic, handler failure), by code.',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, n] of stats.mqttRejected) this.inc({ code }, n);
      },
    });
    new Counter({
      name: 'lockstep_mqtt_connections_refused_total',
      help: 'MQTT connections closed by the transport limits (per-address rate, sign-in timeout, packet limits), by reason (docs/monitoring.md).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of stats.connectionsRefused) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'lockstep_group_commit_failures_total',
      help: 'Group-commit transactions that failed as a whole (their items then ran one by one), by writer.',
      labelNames: ['writer'],
      registers,
      collect() {
        this.reset();
        for (const [writer, n] of stats.groupCommitFailures) this.inc({ writer }, n);
      },
    });
  }

  private databaseGauges(db: Db, registers: Registry[]): void {
    new Gauge({
      name: 'lockstep_lockers',
      help: 'Registered lockers by presence (online as last reported by the locker).',
      labelNames: ['presence'],
      registers,
      async collect() {
        const rows = await db.selectFrom('lockers').select((eb) => ['online', eb.fn.countAll<number>().as('n')]).groupBy('online').execute();
        this.reset();
        this.set({ presence: 'online' }, 0);
        this.set({ presence: 'offline' }, 0);
        for (const r of rows) this.set({ presence: r.online === 1 ? 'online' : 'offline' }, Number(r.n));
      },
    });
    new Counter({
      name: 'lockstep_grants_issued_total',
      help: 'Grants issued (signed one-time codes), by action.',
      labelNames: ['action'],
      registers,
      async collect() {
        const rows = await db.selectFrom('grants').select((eb) => ['action', eb.fn.countAll<number>().as('n')]).groupBy('action').execute();
        this.reset();
        for (const r of rows) this.inc({ action: r.action }, Number(r.n));
      },
    });
    new Gauge({
      name: 'lockstep_commands',
      help: 'Operator commands by type and state.',
      labelNames: ['type', 'state'],
      registers,
      async collect() {
        const rows = await db.selectFrom('commands').select((eb) => ['type', 'state', eb.fn.countAll<number>().as('n')]).groupBy(['type', 'state']).execute();
        this.reset();
        for (const type of COMMAND_TYPES) for (const state of COMMAND_STATES) this.set({ type, state }, 0);
        for (const r of rows) this.set({ type: r.type, state: r.state }, Number(r.n));
      },
    });
    new Gauge({
      name: 'lockstep_alarms',
      help: 'Alarms by kind and state (open, acknowledged, resolved).',
      labelNames: ['kind', 'state'],
      registers,
      async collect() {
        const rows = await db.selectFrom('alarms').select((eb) => ['kind', 'state', eb.fn.countAll<number>().as('n')]).groupBy(['kind', 'state']).execute();
        this.reset();
        // Every state of a kind seen is reported, zeros included, so a series does not vanish when it reaches 0.
        for (const kind of new Set(rows.map((r) => r.kind))) for (const state of ALARM_STATES) this.set({ kind, state }, 0);
        for (const r of rows) this.set({ kind: r.kind, state: r.state }, Number(r.n));
      },
    });
  }

  /**
   * Counts code events of a committed batch. A batch with no duplicate is counted as it came; one with
   * duplicates is counted from the rows this batch inserted (those carry its `received_at`).
   */
  private async countCodes(db: Db, batch: EventsCommitted): Promise<void> {
    const isCode = (type: string) => type === 'code.accepted' || type === 'code.rejected';
    let events = batch.events.filter((e) => isCode(e.type));
    if (events.length === 0) return;
    if (batch.duplicates > 0) {
      const rows = await db
        .selectFrom('device_events')
        .select('seq')
        .where('locker_id', '=', batch.lockerId)
        .where('seq', 'in', events.map((e) => e.seq))
        .where('received_at', '=', batch.receivedAt)
        .execute();
      const inserted = new Set(rows.map((r) => Number(r.seq)));
      events = events.filter((e) => inserted.has(e.seq));
    }
    for (const e of events) {
      const accepted = e.type === 'code.accepted';
      this.codes.inc({ result: accepted ? 'accepted' : 'rejected', action: e.action ?? 'none', via: e.via ?? 'unknown', reason: accepted ? 'none' : this.reasonLabel(e.reason) });
    }
  }

  private reasonLabel(reason: string | undefined): string {
    if (!reason) return 'none';
    if (!/^[A-Z][A-Z0-9_]{0,39}$/.test(reason)) return 'OTHER';
    if (this.reasons.has(reason)) return reason;
    if (this.reasons.size >= MAX_REASONS) return 'OTHER';
    this.reasons.add(reason);
    return reason;
  }
}
