import { isLockerId } from './ids.js';

/**
 * Every MQTT topic of the protocol, per locker: `lockers/{lockerId}/{kind}`.
 * Devices publish and subscribe only to their own topics with these exact names.
 */
export const TOPIC_ROOT = 'lockers';

/** Topics a device publishes to (device → server). */
export const DEVICE_PUBLISHES = ['status', 'heartbeat', 'events', 'state/get', 'state/reported'] as const;
/** Topics a device subscribes to (server → device). */
export const DEVICE_SUBSCRIBES = ['state', 'events/ack', 'commands'] as const;

export type DeviceTopicKind = (typeof DEVICE_PUBLISHES)[number];
type ServerTopicKind = (typeof DEVICE_SUBSCRIBES)[number];
export type TopicKind = DeviceTopicKind | ServerTopicKind;

export function lockerTopic(lockerId: string, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${lockerId}/${kind}`;
}

export const topics = {
  status: (id: string) => lockerTopic(id, 'status'),
  heartbeat: (id: string) => lockerTopic(id, 'heartbeat'),
  events: (id: string) => lockerTopic(id, 'events'),
  eventsAck: (id: string) => lockerTopic(id, 'events/ack'),
  state: (id: string) => lockerTopic(id, 'state'),
  stateGet: (id: string) => lockerTopic(id, 'state/get'),
  stateReported: (id: string) => lockerTopic(id, 'state/reported'),
  commands: (id: string) => lockerTopic(id, 'commands'),
};

/** Filters the server subscribes with (one wildcard level: the locker id). */
export const SERVER_SUBSCRIPTIONS: readonly string[] = DEVICE_PUBLISHES.map((k) => `${TOPIC_ROOT}/+/${k}`);

const ALL_KINDS: readonly string[] = [...DEVICE_PUBLISHES, ...DEVICE_SUBSCRIBES];

export interface ParsedTopic {
  lockerId: string;
  kind: TopicKind;
}

/** Parses a protocol topic; null for anything that is not exactly one of ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const lockerId = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (!isLockerId(lockerId) || !ALL_KINDS.includes(kind)) return null;
  return { lockerId, kind: kind as TopicKind };
}

/** True when `lockerId` may publish to `topic`. */
export function deviceMayPublish(lockerId: string, topic: string): boolean {
  const p = parseTopic(topic);
  return p !== null && p.lockerId === lockerId && (DEVICE_PUBLISHES as readonly string[]).includes(p.kind);
}

/**
 * True when `lockerId` may publish a message to `topic` with this retain flag: its own device topics, and retained
 * only on its status. The one rule for a locker's publishes, the will it sets at connect, and an external broker's
 * ACL checks.
 */
export function deviceMayPublishMessage(lockerId: string, topic: string, retain: boolean): boolean {
  return deviceMayPublish(lockerId, topic) && (!retain || isStatusTopic(topic));
}

/** True when an MQTT topic filter has a wildcard (`+` or `#`): it may match many topics. */
export function isWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** True when `lockerId` may subscribe with `filter` (exact topics only, no wildcards). */
export function deviceMaySubscribe(lockerId: string, filter: string): boolean {
  const p = parseTopic(filter);
  return p !== null && p.lockerId === lockerId && (DEVICE_SUBSCRIBES as readonly string[]).includes(p.kind);
}

/** The retained presence topic (the only topic a device may publish retained). */
export function isStatusTopic(topic: string): boolean {
  return parseTopic(topic)?.kind === 'status';
}
