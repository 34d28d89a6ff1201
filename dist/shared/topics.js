import { isLockerId } from './ids.js';
/**
 * Every MQTT topic of the protocol, per locker: `lockers/{lockerId}/{kind}`.
 * Devices publish and subscribe only to their own topics with these exact names.
 */
export const TOPIC_ROOT = 'lockers';
/** Topics a device publishes to (device → server). */
export const DEVICE_PUBLISHES = ['status', 'heartbeat', 'events', 'state/get', 'state/reported'];
/** Topics a device subscribes to (server → device). */
export const DEVICE_SUBSCRIBES = ['state', 'events/ack', 'commands'];
export function lockerTopic(lockerId, kind) {
    return `${TOPIC_ROOT}/${lockerId}/${kind}`;
}
export const topics = {
    status: (id) => lockerTopic(id, 'status'),
    heartbeat: (id) => lockerTopic(id, 'heartbeat'),
    events: (id) => lockerTopic(id, 'events'),
    eventsAck: (id) => lockerTopic(id, 'events/ack'),
    state: (id) => lockerTopic(id, 'state'),
    stateGet: (id) => lockerTopic(id, 'state/get'),
    stateReported: (id) => lockerTopic(id, 'state/reported'),
    commands: (id) => lockerTopic(id, 'commands'),
};
/** Filters the server subscribes with (one wildcard level: the locker id). */
export const SERVER_SUBSCRIPTIONS = DEVICE_PUBLISHES.map((k) => `${TOPIC_ROOT}/+/${k}`);
const ALL_KINDS = [...DEVICE_PUBLISHES, ...DEVICE_SUBSCRIBES];
/** Parses a protocol topic; null for anything that is not exactly one of ours. */
export function parseTopic(topic) {
    const prefix = `${TOPIC_ROOT}/`;
    if (!topic.startsWith(prefix))
        return null;
    const rest = topic.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0)
        return null;
    const lockerId = rest.slice(0, slash);
    const kind = rest.slice(slash + 1);
    if (!isLockerId(lockerId) || !ALL_KINDS.includes(kind))
        return null;
    return { lockerId, kind: kind };
}
/** True when `lockerId` may publish to `topic`. */
export function deviceMayPublish(lockerId, topic) {
    const p = parseTopic(topic);
    return p !== null && p.lockerId === lockerId && DEVICE_PUBLISHES.includes(p.kind);
}
/** True when `lockerId` may subscribe with `filter` (exact topics only, no wildcards). */
export function deviceMaySubscribe(lockerId, filter) {
    const p = parseTopic(filter);
    return p !== null && p.lockerId === lockerId && DEVICE_SUBSCRIBES.includes(p.kind);
}
/** The retained presence topic (the only topic a device may publish retained). */
export function isStatusTopic(topic) {
    return parseTopic(topic)?.kind === 'status';
}
//# sourceMappingURL=topics.js.map